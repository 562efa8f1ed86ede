import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { externalDataInterceptor, getHomeDir } from '@smithy/core/config';

/**
 * The AWS SDK's shared files — `~/.aws/config` and `~/.aws/credentials`, which may hold secret
 * access keys — are read by every client (for its settings and the default credential chain)
 * and kept by the SDK in a process-wide cache for the life of the process, out of Ferry's
 * reach: after a seal a key read from them would still be in memory.
 *
 * So Ferry reads the two files itself whenever it builds a destination's clients and hands
 * their text to the SDK through the SDK's file interceptor, which the SDK consults before it
 * reads or caches a file (`@smithy/core`'s `readFile`); its own cache therefore stays empty.
 * On seal the intercepted texts are replaced by empty ones, so nothing of the files is held
 * while sealed; the next client built after unseal reads them again.
 */
export class SharedConfigFiles {
  private intercepted = new Set<string>();

  /** Reads the files now and has the SDK use these contents; a missing file reads as empty. */
  load(): void {
    for (const path of sharedFilePaths()) {
      let text = '';
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        // Absent or unreadable: the SDK would have found nothing either.
      }
      externalDataInterceptor.interceptFile(path, text);
      this.intercepted.add(path);
    }
  }

  /** Drops the contents handed to the SDK (on seal). */
  forget(): void {
    for (const path of this.intercepted) externalDataInterceptor.interceptFile(path, '');
  }
}

/** The paths the SDK reads, resolved as it resolves them (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, `~/`). */
function sharedFilePaths(): string[] {
  const home = (p: string) => (p.startsWith('~/') ? join(getHomeDir(), p.slice(2)) : p);
  return [
    home(process.env.AWS_CONFIG_FILE || join(getHomeDir(), '.aws', 'config')),
    home(process.env.AWS_SHARED_CREDENTIALS_FILE || join(getHomeDir(), '.aws', 'credentials')),
  ];
}
