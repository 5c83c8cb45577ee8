// The TypeScript types of a tool spec, written from its meta-schema (specs/schema/tool.schema.yaml)
// into generated/spec-types.ts: the shape is stated once, in the meta-schema, and the generator,
// the copied descriptor types and the runtime all use these. Each `title` in the meta-schema names
// a type.
import { compile } from 'json-schema-to-typescript';

export async function specTypes(metaSchema: Record<string, any>): Promise<string> {
  const schema = structuredClone(metaSchema);
  // The step's oneOf only says that exactly one key names its kind (Ajv checks it); as a type it
  // would add nothing but an index signature that accepts any key.
  delete schema.$defs.step.oneOf;
  const text = await compile(schema, 'ToolSpecFile', {
    bannerComment: '',
    additionalProperties: true,
    format: false,
    strictIndexSignatures: false,
    unreachableDefinitions: true,
  });
  return `${text.trim()}\n`;
}
