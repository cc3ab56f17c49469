/**
 * The repository's Dockerfile read into plain data (with dockerfile-ast), so that tests can check its
 * paths and run its runtime stage outside a container: this machine has no Docker engine.
 */
import { readFileSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { Copy, DockerfileParser, Env, Healthcheck, type Instruction } from 'dockerfile-ast';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export type Step =
  | {
      readonly kind: 'copy';
      readonly from?: string;
      readonly sources: readonly string[];
      readonly dest: string;
    }
  | { readonly kind: 'run'; readonly command: string };

export interface Stage {
  readonly name: string | undefined;
  readonly base: string;
  /** Absolute, as WORKDIR set it last ('/' when never set). */
  readonly workdir: string;
  /** COPY and RUN in order; COPY destinations resolved against the WORKDIR in force. */
  readonly steps: readonly Step[];
  readonly env: Readonly<Record<string, string>>;
  readonly user: string | undefined;
  readonly expose: readonly string[];
  /** Exec form only (JSON array); undefined when absent or in shell form (see `shellForm`). */
  readonly entrypoint: readonly string[] | undefined;
  readonly cmd: readonly string[] | undefined;
  /** The HEALTHCHECK's exec-form command and its flags (`interval`, `timeout`, ...). */
  readonly healthcheck:
    | { readonly command: readonly string[]; readonly flags: Record<string, string> }
    | undefined;
  readonly stopSignal: string | undefined;
  /** Instructions written in shell form where exec form matters (ENTRYPOINT, CMD, HEALTHCHECK CMD). */
  readonly shellForm: readonly string[];
}

function execForm(text: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

function args(instruction: Instruction): string[] {
  return instruction.getArguments().map((a) => a.getValue());
}

export function readDockerfile(path = resolve(REPO_ROOT, 'Dockerfile')): Stage[] {
  const dockerfile = DockerfileParser.parse(readFileSync(path, 'utf8'));
  const stages: Stage[] = [];
  type Mutable = { -readonly [K in keyof Stage]: Stage[K] } & { steps: Step[]; shellForm: string[] };
  let stage: Mutable | undefined;
  for (const instruction of dockerfile.getInstructions()) {
    const keyword = instruction.getKeyword();
    if (keyword === 'FROM') {
      const [base = '', as, name] = args(instruction);
      stage = {
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        base,
        workdir: '/',
        steps: [],
        env: {},
        user: undefined,
        expose: [],
        entrypoint: undefined,
        cmd: undefined,
        healthcheck: undefined,
        stopSignal: undefined,
        shellForm: [],
      };
      stages.push(stage);
      continue;
    }
    if (!stage) throw new Error(`${keyword} before the first FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = posix.resolve(stage.workdir, args(instruction)[0] ?? '');
        break;
      case 'COPY': {
        const parts = args(instruction);
        const dest = parts.pop() ?? '';
        const from =
          instruction instanceof Copy ? (instruction.getFromFlag()?.getValue() ?? undefined) : undefined;
        stage.steps.push({
          kind: 'copy',
          ...(from ? { from } : {}),
          sources: parts,
          dest: posix.resolve(stage.workdir, dest) + (dest.endsWith('/') ? '/' : ''),
        });
        break;
      }
      case 'RUN':
        stage.steps.push({ kind: 'run', command: instruction.getArgumentsContent() ?? '' });
        break;
      case 'ENV':
        if (!(instruction instanceof Env)) throw new Error('ENV not parsed as such');
        for (const property of instruction.getProperties())
          stage.env = { ...stage.env, [property.getName()]: property.getValue() ?? '' };
        break;
      case 'USER':
        stage.user = args(instruction)[0];
        break;
      case 'EXPOSE':
        stage.expose = [...stage.expose, ...args(instruction)];
        break;
      case 'STOPSIGNAL':
        stage.stopSignal = args(instruction)[0];
        break;
      case 'ENTRYPOINT':
      case 'CMD': {
        const form = execForm(instruction.getArgumentsContent() ?? '');
        if (!form) stage.shellForm.push(keyword);
        if (keyword === 'ENTRYPOINT') stage.entrypoint = form;
        else stage.cmd = form;
        break;
      }
      case 'HEALTHCHECK': {
        const content = (instruction.getArgumentsContent() ?? '').trim();
        const command = content.startsWith('CMD') ? execForm(content.slice(3).trim()) : undefined;
        if (!command) stage.shellForm.push(keyword);
        const flags = Object.fromEntries(
          instruction instanceof Healthcheck
            ? instruction.getFlags().map((f) => [f.getName(), f.getValue() ?? ''])
            : [],
        );
        stage.healthcheck = command ? { command, flags } : undefined;
        break;
      }
      default:
        break;
    }
  }
  return stages;
}
