import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tempDirForTest } from '../support/fixtures.js';

/**
 * The path of a new SQLite file with 4 KB pages, as a store made before Ferry chose 8 KB pages
 * has: the page size is fixed when the first table is written, so one is made and dropped.
 */
export function sqliteFileWith4kPages(dirPrefix: string): string {
  const file = join(tempDirForTest(dirPrefix), 'f.db');
  const db = new Database(file);
  db.pragma('page_size = 4096');
  db.exec('CREATE TABLE scratch (x); DROP TABLE scratch');
  db.close();
  return file;
}
