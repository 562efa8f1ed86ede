import { fuzzShard } from './shard.js';

fuzzShard(1);
