/**
 * The SDK for browsers and other runtimes without Node's built-ins: the HTTP client, the event
 * stream and the mirror, errors, event types and every model type. It leaves out what needs
 * `node:crypto` or TypeBox at run time (digests, the component JSON Schema); `@nestor/sdk` keeps
 * exporting everything for Node.
 */
export * from './api/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export type * from './models/component.js';
export * from './models/engine.js';
export * from './models/source.js';
export * from './models/validation.js';
export * from './models/version.js';
export * from './resolve/index.js';
