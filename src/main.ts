#!/usr/bin/env node
import { type Command, parseCommand, USAGE, UsageError } from './cli/args.js';
import { checkConfig } from './cli/check-config.js';
import { explain } from './cli/explain.js';
import { EXIT_CONFIG, failureOf } from './cli/prepare.js';
import { start } from './cli/start.js';

const io = {
  out: (text: string) => void process.stdout.write(text),
  err: (text: string) => void process.stderr.write(text),
};

async function run(command: Command): Promise<number | undefined> {
  switch (command.name) {
    case 'help':
      io.out(`${USAGE}\n`);
      return 0;
    case 'check-config':
      return checkConfig(process.env, command.online, io);
    case 'explain':
      return explain(process.env, command, io);
    case 'start':
      // Keeps running; the signal handlers decide the exit status.
      await start(process.env);
      return undefined;
  }
}

let command: Command;
try {
  command = parseCommand(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  process.stderr.write(`fhir-gateway: ${error.message}\n${USAGE}\n`);
  process.exit(EXIT_CONFIG);
}
run(command).then(
  (status) => {
    // process.exitCode, not exit(): stdout is flushed first when it is a pipe.
    if (status !== undefined) process.exitCode = status;
  },
  (error: unknown) => {
    const { line, status } = failureOf(error, command.name === 'start' ? 'start' : `run ${command.name}`);
    process.stderr.write(`${line}\n`);
    process.exit(status);
  },
);
