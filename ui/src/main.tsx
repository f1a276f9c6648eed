/** The dashboard's entry: the stylesheet (bundled as app.css) and the app, rendered over the loading notice. */
import './app.css';
import { render } from 'preact';
import { App } from './App';

const container = document.getElementById('app');
if (container) {
  container.textContent = '';
  render(<App />, container);
}
