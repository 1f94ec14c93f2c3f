import type { ComponentDefinition } from '@nestor/sdk/browser';

/** Revocation of design 10.3, shown when the server sends it. */
export function revocationOf(c: ComponentDefinition): { reason: string; at: string } | null {
  const revoked = (c as ComponentDefinition & { revoked?: { reason: string; at: string } | null }).revoked;
  return revoked && typeof revoked === 'object' ? revoked : null;
}

/** Maturity, support level and lifecycle badges of a version. */
export function Badges({ c, compact = false }: { c: ComponentDefinition; compact?: boolean }) {
  const revoked = revocationOf(c);
  return (
    <span class="badges">
      {revoked ? <span class="badge danger">revoked</span> : null}
      {c.deprecated ? <span class="badge warn">deprecated</span> : null}
      <span class={`badge maturity-${c.maturity}`}>{c.maturity}</span>
      {compact ? null : <span class="badge">{c.support_level}</span>}
    </span>
  );
}

export function HealthBadge({ health }: { health: string }) {
  const cls = health === 'healthy' ? 'ok' : health === 'unhealthy' ? 'danger' : 'muted';
  return <span class={`badge ${cls}`}>{health}</span>;
}

/** A friendly error with a way to try again. */
export function ErrorNote({ message, onRetry }: { message: string; onRetry?: () => void }) {
  return (
    <div class="error-note" role="alert">
      <p>{message}</p>
      {onRetry ? (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}
