/**
 * Content codings of request bodies (RFC 9110 §8.4). The OpenSRP Android FHIR engine gzips its
 * uploads; the gateway decodes them before anything reads the body, so authorization, Bundle entry
 * checks and the backend all see the same decoded bytes.
 */
import { type Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import { GatewayError } from '../fhir/errors.js';

const DECODERS: Readonly<Record<string, () => Transform>> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** Stacked codings (`gzip, gzip`) are decoded in order up to this depth; each layer costs a zlib context. */
export const MAX_CODINGS = 2;

/** A decoded body stream; `receivedEncodedLength` is what fastify compares with Content-Length. */
export interface DecodedBody extends Readable {
  receivedEncodedLength: number;
}

/**
 * The codings of a Content-Encoding header in the order they were applied, `identity` left out.
 * Throws 415 for a coding the gateway cannot decode, or for more than MAX_CODINGS.
 */
export function contentCodings(header: string | undefined): string[] {
  if (header === undefined) return [];
  const codings = header
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity');
  for (const coding of codings) {
    if (!Object.hasOwn(DECODERS, coding)) {
      throw new GatewayError(
        415,
        'unsupported_content_encoding',
        `Content-Encoding ${JSON.stringify(coding.slice(0, 40))} is not supported; send gzip, deflate, br or no encoding`,
      );
    }
  }
  if (codings.length > MAX_CODINGS) {
    throw new GatewayError(
      415,
      'unsupported_content_encoding',
      `At most ${MAX_CODINGS} stacked content codings are decoded; got ${codings.length}`,
    );
  }
  return codings;
}

/**
 * Decodes `source` through `codings` (last applied, first undone). Every layer's output is held to
 * `limitBytes`: the moment one passes it, the stream fails with 413 and decoding stops, so a
 * compression bomb is never inflated past the limit. Corrupt data fails with 400. `source` is
 * unpiped, never destroyed: the answer still goes out on its socket.
 */
export function decodeBody(source: Readable, codings: readonly string[], limitBytes: number): DecodedBody {
  let encodedLength = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      encodedLength += chunk.length;
      output.receivedEncodedLength = encodedLength;
      callback(null, chunk);
    },
  });
  const stages: Transform[] = [counter];
  const failures: ((error: Error) => GatewayError)[] = [];
  for (const coding of [...codings].reverse()) {
    stages.push(DECODERS[coding]!(), limiter(limitBytes));
    failures.push(
      (error) => decodeError(coding, error),
      (error) => asGatewayError(error, limitBytes),
    );
  }
  const output = stages.at(-1) as Transform & DecodedBody;
  output.receivedEncodedLength = 0;

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    source.unpipe(counter);
    for (const stage of stages) if (stage !== output) stage.destroy();
  };
  const fail = (error: GatewayError) => {
    stop();
    output.destroy(error);
  };
  // `output` fails by itself when the last layer passes the limit; the others fail it.
  output.on('error', stop);
  stages.forEach((stage, index) => {
    if (stage === output) return;
    const failure = index === 0 ? (error: Error) => readError(error) : failures[index - 1]!;
    stage.on('error', (error) => fail(failure(error)));
    stage.pipe(stages[index + 1]!);
  });
  source.on('error', (error) => fail(readError(error)));
  source.on('close', () => {
    if (!source.readableEnded) fail(readError(new Error('the client closed the connection mid-body')));
  });
  source.pipe(counter);
  return output;
}

function limiter(limitBytes: number): Transform {
  let decoded = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      decoded += chunk.length;
      if (decoded > limitBytes) callback(tooLarge(limitBytes));
      else callback(null, chunk);
    },
  });
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError(
    413,
    'body_too_large',
    'The request body is larger than the gateway accepts once decoded',
    { detail: `more than ${limitBytes} bytes after Content-Encoding was undone` },
  );
}

function asGatewayError(error: Error, limitBytes: number): GatewayError {
  return error instanceof GatewayError ? error : tooLarge(limitBytes);
}

function readError(error: Error): GatewayError {
  return new GatewayError(400, 'body_read_failed', 'The request body could not be read', {
    detail: error.message,
  });
}

function decodeError(coding: string, error: Error): GatewayError {
  return new GatewayError(400, 'bad_content_encoding', `The request body is not valid ${coding} data`, {
    detail: (error as { code?: string }).code ?? error.message,
  });
}
