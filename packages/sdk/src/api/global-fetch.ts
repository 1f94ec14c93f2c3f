/**
 * The global fetch, called as a plain function. Browsers refuse `fetch` called with another
 * `this` ("Illegal invocation"), which is what `this.fetchImpl(...)` does with an unbound
 * `globalThis.fetch`; looking it up on each call also follows a fetch replaced after construction.
 */
export const globalFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);
