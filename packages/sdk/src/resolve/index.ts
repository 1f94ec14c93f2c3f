export * from './resolver.js';
