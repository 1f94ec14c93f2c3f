export * from './canonical-json.js';
export * from './component.js';
export * from './component-schema.js';
export * from './digest.js';
export * from './engine.js';
export * from './source.js';
export * from './validation.js';
export * from './version.js';
