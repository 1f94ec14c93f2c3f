export * from './client.js';
export * from './mirror.js';
export * from './sse-client.js';
export * from './types.js';
