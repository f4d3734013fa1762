// Reads the official result types through types/wx-privacy.d.ts with the TypeScript compiler API,
// and checks real responses against them: every required key present, every value of the declared
// kind (string, number, boolean, literal, array, nested object).
'use strict'
const assert = require('node:assert/strict')
const path = require('node:path')
const ts = require('typescript')

const DTS = path.join(__dirname, '..', 'types', 'wx-privacy.d.ts')

function loadTypes() {
  const program = ts.createProgram([DTS], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts'],
    types: ['miniprogram-api-typings'],
    typeRoots: [path.join(__dirname, '..', 'node_modules')],
  })
  const diagnostics = ts.getPreEmitDiagnostics(program)
  assert.deepEqual(diagnostics.map(d => ts.flattenDiagnosticMessageText(d.messageText, '\n')), [], 'the .d.ts compiles')
  const checker = program.getTypeChecker()
  const file = program.getSourceFile(DTS)
  const find = name => {
    const decl = file.statements.find(s => (ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s)) && s.name.text === name)
    assert.ok(decl, `${name} is declared in the .d.ts`)
    return checker.getTypeAtLocation(decl.name)
  }
  return { checker, find }
}

/** Every problem of `value` against `type`: missing required keys, values of the wrong kind. */
function check(checker, type, value, at, problems, depth = 0) {
  if (depth > 6) return
  const F = ts.TypeFlags
  if (type.flags & (F.Any | F.Unknown)) return
  if (type.isUnion()) {
    const each = type.types.map(t => { const p = []; check(checker, t, value, at, p, depth + 1); return p })
    if (!each.some(p => p.length === 0)) problems.push(...each.reduce((a, b) => (a.length <= b.length ? a : b)))
    return
  }
  if (type.isIntersection()) {
    for (const t of type.types) check(checker, t, value, at, problems, depth + 1)
    return
  }
  if (type.isLiteral() || type.flags & F.BooleanLiteral) {
    const expected = type.flags & F.BooleanLiteral ? checker.typeToString(type) === 'true' : type.value
    if (value !== expected) problems.push(`${at}: ${JSON.stringify(value)} is not ${checker.typeToString(type)}`)
    return
  }
  if (type.flags & F.StringLike) { if (typeof value !== 'string') problems.push(`${at}: not a string: ${JSON.stringify(value)}`); return }
  if (type.flags & F.NumberLike) { if (typeof value !== 'number') problems.push(`${at}: not a number: ${JSON.stringify(value)}`); return }
  if (type.flags & F.BooleanLike) { if (typeof value !== 'boolean') problems.push(`${at}: not a boolean: ${JSON.stringify(value)}`); return }
  if (checker.isArrayType(type)) {
    if (!Array.isArray(value)) { problems.push(`${at}: not an array`); return }
    const [element] = checker.getTypeArguments(type)
    value.forEach((v, i) => check(checker, element, v, `${at}[${i}]`, problems, depth + 1))
    return
  }
  if (type.flags & F.Object) {
    if (value === null || typeof value !== 'object') { problems.push(`${at}: not an object: ${JSON.stringify(value)}`); return }
    for (const prop of checker.getPropertiesOfType(type)) {
      const key = prop.getName()
      const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0
      if (!(key in value)) {
        if (!optional) problems.push(`${at}.${key}: missing (required by ${checker.typeToString(type)})`)
        continue
      }
      const propType = checker.getNonNullableType(checker.getTypeOfSymbol(prop))
      check(checker, propType, value[key], `${at}.${key}`, problems, depth + 1)
    }
  }
}

/** The required keys of a type (top level), for the test's report. */
function requiredKeys(checker, type) {
  const t = type.isUnion() ? type.types[0] : type
  return checker.getPropertiesOfType(t).filter(p => !(p.flags & ts.SymbolFlags.Optional)).map(p => p.getName()).sort()
}

module.exports = { ts, loadTypes, check, requiredKeys }
