export * from './mirror.js';
export * from './sse-client.js';
export * from './types.js';
export * from './client.js';
