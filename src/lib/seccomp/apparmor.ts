/**
 * The AppArmor profile of a container, with moby's rules (`daemon/oci_linux.go` WithApparmor): nothing where the host
 * has no AppArmor; otherwise the profile asked for (`security_opt: apparmor=NAME`), `unconfined` for privileged
 * containers, else Docker's `docker-default`; `unconfined` means no profile in the OCI spec. Docker generates and
 * loads docker-default itself; tscompose does not load profiles, so the default applies only where a profile of that
 * name is loaded (e.g. by a Docker installation) and is otherwise left out with a note. Pure: the caller reads the
 * host (enabled, loaded profiles).
 */
import { AppArmorProfileError } from './errors.js';

/** Docker's default AppArmor profile name. */
export const DOCKER_DEFAULT_APPARMOR_PROFILE = 'docker-default';

/** What the host offers: whether AppArmor is enabled and the names of the profiles loaded. */
export interface AppArmorHost {
  readonly enabled: boolean;
  readonly loaded: readonly string[];
}

/** The profile to put in `process.apparmorProfile` (absent: none), and why none when one could be expected. */
export interface AppArmorChoice {
  readonly profile?: string;
  readonly note?: string;
}

/**
 * The AppArmor profile for a container (see the module comment). AppArmorProfileError when `requested` names a
 * profile the host has not loaded (the OCI runtime would fail to start the container).
 */
export function apparmorProfileFor(requested: string | undefined, privileged: boolean, host: AppArmorHost): AppArmorChoice {
  if (!host.enabled) {
    return requested !== undefined && requested !== 'unconfined'
      ? { note: `AppArmor is not enabled on this host: apparmor=${requested} ignored` }
      : {};
  }
  const profile = requested ?? (privileged ? 'unconfined' : DOCKER_DEFAULT_APPARMOR_PROFILE);
  if (profile === 'unconfined') return {};
  if (host.loaded.includes(profile)) return { profile };
  if (requested === undefined) return { note: `AppArmor profile ${profile} is not loaded on this host: containers run without one` };
  throw new AppArmorProfileError(`AppArmor profile "${profile}" is not loaded on this host`, {
    hint: 'load it with apparmor_parser -r <file>, or use security_opt: [apparmor=unconfined]',
  });
}

/** The profile names in the text of /sys/kernel/security/apparmor/profiles (`name (mode)` lines). */
export function loadedApparmorProfiles(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+\([^)]*\)\s*$/, '').trim())
    .filter((l) => l !== '');
}
