/** Markdown from models and tickets, rendered inert by safeMarkdown.ts. */
import { useMemo } from 'preact/hooks';
import { renderInlineMarkdown, renderMarkdown } from './safeMarkdown';

export function Markdown({ source, class: className }: { source: string; class?: string }) {
  // sanitized by DOMPurify in renderMarkdown
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div class={`markdown ${className ?? ''}`.trim()} dangerouslySetInnerHTML={{ __html: html }} />;
}

export function InlineMarkdown({ source }: { source: string }) {
  // sanitized by DOMPurify in renderInlineMarkdown
  const html = useMemo(() => renderInlineMarkdown(source), [source]);
  return <span dangerouslySetInnerHTML={{ __html: html }} />;
}
