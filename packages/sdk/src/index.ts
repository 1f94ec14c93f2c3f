export * from './api/index.js';
export * from './errors/index.js';
export * from './events/index.js';
export * from './models/index.js';
export * from './resolve/index.js';
