import type { AwsEmulator } from '../../test/support/aws-emulator/index.js';

/** The emulator's AWSCURRENT value of a secret, read in process (no AWS call, no quota spent). */
export const currentValue = (emu: AwsEmulator, name: string, region = 'us-east-1') =>
  emu.getSecret(region, name)?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
