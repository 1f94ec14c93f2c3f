import { create } from '@nestor/sdk';

/**
 * Settles like `p`, or rejects with a `timeout` NestorError after `ms`. The timer is always
 * cleared, so a fast promise leaves nothing pending. `p` itself is not cancelled.
 */
export async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  where: { component: string; operation: string; message: string },
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(create('timeout').component(where.component).operation(where.operation).message(where.message).build()),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
