import type { ComponentChildren } from 'preact';

/**
 * A box that scrolls sideways on narrow screens (wide tables, the graph). It takes the focus so
 * that keyboard users can scroll it too (WCAG 2.1.1; axe's scrollable-region-focusable).
 */
export function Scroll({
  label,
  className,
  children,
}: {
  label: string;
  className: string;
  children: ComponentChildren;
}) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling box must be reachable by keyboard to be scrolled
    // biome-ignore lint/a11y/useSemanticElements: a fieldset would style and mean a form group; this is only a labelled box
    <div class={className} tabIndex={0} role="group" aria-label={label}>
      {children}
    </div>
  );
}
