import { MemoryStore } from '../storage/memory/memory-store.js';
import { describeSearchContract } from './search-contract.test-suite.js';

describeSearchContract('memory', async () => ({ store: new MemoryStore() }));
