/** The stylesheet main.tsx imports: esbuild bundles it into app.css; it exports nothing. */
declare module '*.css';
