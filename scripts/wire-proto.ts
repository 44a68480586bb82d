import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  createFileRegistry,
  fromBinary,
  ScalarType,
  type DescField,
  type DescMessage,
  type DescOneof,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';

const run = promisify(execFile);

/**
 * A `wire.proto`: messages of a proto/ file redeclared with every embedded message as `bytes`, so a package can
 * read and write them with the bodies left encoded (an embedded message is encoded exactly like `bytes`). Made
 * from its namesakes, so the field names and numbers have one source: the proto/ file.
 */
export interface WireProtoSpec {
  /** The namesakes' file, relative to proto/. */
  source: string;
  /** The messages to redeclare, by their short name in `source`'s package. */
  messages: readonly string[];
  /** The wire file's package. */
  package: string;
  /** Where the package's `buf.gen.yaml` reads it, relative to the package. */
  out: string;
  /** Why the package keeps it: the file's opening comment. */
  about: readonly string[];
}

/** Each package's wire file, by the package's folder under packages/. */
export const WIRE_PROTOS = {
  'transport-grpc': {
    source: 'forge/agent/v1/agent.proto',
    messages: ['ConnectResponse', 'ExecuteResponse'],
    package: 'forge.agent.wire.v1',
    out: 'gen/proto/forge/agent/wire/v1/wire.proto',
    about: [
      'Internal to @forge/transport-grpc, not an API: the responses of forge.agent.v1.AgentService as the',
      'transport itself writes and reads them, wire-identical to their namesakes, but with events left as their',
      'encoded bytes, so the transport codes them with its own fast codec instead of the reflective one (a',
      "Connect stream's batch is even encoded whole). Other clients use agent.proto.",
    ],
  },
  'dial-home': {
    source: 'forge/dialhome/v1/dialhome.proto',
    messages: ['AttachRequest'],
    package: 'forge.dialhome.wire.v1',
    out: 'gen/proto/forge/dialhome/wire/v1/wire.proto',
    about: [
      'Internal to @forge/dial-home, not an API: forge.dialhome.v1.AttachRequest as the package itself writes',
      "and reads it, wire-identical to its namesake, but with the bodies left as their encoded bytes, so a run's",
      "events are coded with @forge/transport-grpc's fast event codec instead of the reflective one. Agents",
      'written in other languages use dialhome.proto.',
    ],
  },
} as const satisfies Record<string, WireProtoSpec>;

export type WireProtoPackage = keyof typeof WIRE_PROTOS;

/** The field as the wire file declares it: a message becomes `bytes`, named in a comment. */
function fieldLines(field: DescField, indent: string): string[] {
  const decl = (type: string, label = '') => `${indent}${label}${type} ${field.name} = ${field.number};`;
  switch (field.fieldKind) {
    case 'scalar':
      return [decl(ScalarType[field.scalar].toLowerCase(), field.proto.proto3Optional ? 'optional ' : '')];
    case 'message':
      return [`${indent}// ${field.message.typeName}`, decl('bytes')];
    case 'list':
      if (field.listKind === 'message')
        return [`${indent}// Each a ${field.message.typeName}.`, decl('bytes', 'repeated ')];
      if (field.listKind === 'scalar') return [decl(ScalarType[field.scalar].toLowerCase(), 'repeated ')];
  }
  // Enums and maps would need their own declarations; no wire message has one yet.
  throw new Error(`wire-proto: ${field.parent.typeName}.${field.name} is a ${field.fieldKind}, not handled here`);
}

function messageLines(message: DescMessage): string[] {
  if (message.nestedMessages.length || message.nestedEnums.length)
    throw new Error(`wire-proto: ${message.typeName} has nested declarations, not handled here`);
  const lines = [`// = ${message.typeName}`, `message ${message.name} {`];
  for (const member of message.members as ReadonlyArray<DescField | DescOneof>) {
    if (member.kind === 'field') lines.push(...fieldLines(member, '  '));
    else {
      lines.push(`  oneof ${member.name} {`);
      for (const field of member.fields) lines.push(...fieldLines(field, '    '));
      lines.push('  }');
    }
  }
  lines.push('}');
  return lines;
}

/** The text of `spec`'s wire file, from proto/ as `buf` (run in `cwd`, a package folder) builds it now. */
export async function wireProto(spec: WireProtoSpec, buf: string, cwd: string): Promise<string> {
  const build = ['build', '../../proto', '--path', `../../proto/${spec.source}`, '-o', '-#format=binpb'];
  const { stdout } = await run(buf, build, { cwd, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, new Uint8Array(stdout)));
  const file = registry.getFile(spec.source);
  if (!file) throw new Error(`wire-proto: buf built no ${spec.source}`);
  const blocks = spec.messages.map((name) => {
    const message = registry.getMessage(`${file.proto.package}.${name}`);
    if (!message) throw new Error(`wire-proto: ${spec.source} declares no message ${name}`);
    return messageLines(message).join('\n');
  });
  return [
    `// Code generated by scripts/wire-proto.ts from proto/${spec.source} (\`pnpm proto\`). DO NOT EDIT.`,
    '//',
    ...spec.about.map((line) => `// ${line}`),
    'syntax = "proto3";',
    '',
    `package ${spec.package};`,
    '',
    `${blocks.join('\n\n')}\n`,
  ].join('\n');
}
