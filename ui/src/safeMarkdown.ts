/**
 * Markdown from models and tickets (plans, questions, comments), rendered inert. Two layers, because either alone
 * has failed somewhere before:
 *
 * 1. marked with a renderer that writes no raw HTML at all — an `html` token (a `<script>`, an `<img onerror>`)
 *    becomes escaped text, a link whose URL is not http, https, mailto or relative becomes its text, and an image
 *    becomes its alt text (a remote image would load from another host, which the dashboard never does);
 * 2. DOMPurify over marked's output with a strict allowlist: the tags Markdown produces and nothing else, no
 *    `style`, no `on*`, no `data-*`, URIs only http, https, mailto or relative. Links get
 *    `rel="noopener noreferrer"` and open in a new tab.
 *
 * Headings are moved down two levels: a plan's `# Plan` sits under the page's `<h1>` and its section's `<h2>`.
 */
import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';

/**
 * An http, https or mailto URL, or a relative one (no scheme: a first character that is not a letter, or letters
 * not followed by a colon). DOMPurify's own default also lets through ftp, tel, sms and others.
 */
export const SAFE_URL = /^(?:(?:https?|mailto):|[^a-z]|[a-z+.-]+(?:[^a-z+.\-:]|$))/i;

const ALLOWED_TAGS = [
  'a',
  'blockquote',
  'br',
  'code',
  'del',
  'em',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'li',
  'ol',
  'p',
  'pre',
  'strong',
  'table',
  'tbody',
  'td',
  'th',
  'thead',
  'tr',
  'ul',
];
const ALLOWED_ATTR = ['href', 'title', 'start', 'align'];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * The URL as a browser would read it: browsers ignore ASCII whitespace and control characters inside a scheme
 * (`java\tscript:` runs), so they are removed before the scheme is judged.
 */
export function isSafeUrl(url: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
  return SAFE_URL.test(url.replace(/[\u0000-\u0020\u007f]/g, ''));
}

const marked = new Marked({
  gfm: true,
  async: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    link({ href, title, tokens }: Tokens.Link) {
      const text = this.parser.parseInline(tokens);
      if (!isSafeUrl(href)) return text;
      const titled = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${titled}>${text}</a>`;
    },
    image({ text }: Tokens.Image) {
      return escapeHtml(text);
    },
    heading({ tokens, depth }: Tokens.Heading) {
      const level = Math.min(depth + 2, 6);
      return `<h${level}>${this.parser.parseInline(tokens)}</h${level}>\n`;
    },
    checkbox({ checked }: Tokens.Checkbox) {
      // a disabled <input> would be an unlabelled form control on the page
      return checked ? '[x] ' : '[ ] ';
    },
  },
});

let purifier: ReturnType<typeof DOMPurify> | undefined;

function sanitizer() {
  if (purifier) return purifier;
  purifier = DOMPurify(window);
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A' && node instanceof Element && node.hasAttribute('href')) {
      node.setAttribute('rel', 'noopener noreferrer');
      node.setAttribute('target', '_blank');
    }
  });
  return purifier;
}

function purify(html: string, tags: string[]): string {
  return sanitizer().sanitize(html, {
    ALLOWED_TAGS: tags,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_URL,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    FORBID_ATTR: ['style'],
  });
}

/** Block Markdown (a plan, a comment) → sanitized HTML. */
export function renderMarkdown(source: string): string {
  return purify(marked.parse(source, { async: false }), ALLOWED_TAGS);
}

const INLINE_TAGS = ['a', 'br', 'code', 'del', 'em', 'strong'];

/** Inline Markdown (a question, shown as a form label) → sanitized phrasing content, no blocks. */
export function renderInlineMarkdown(source: string): string {
  return purify(marked.parseInline(source, { async: false }), INLINE_TAGS);
}
