import { describeStoreContract } from '../contract.test-suite.js';
import { MemoryStore } from './memory-store.js';

describeStoreContract('memory', async () => ({ store: new MemoryStore() }));
