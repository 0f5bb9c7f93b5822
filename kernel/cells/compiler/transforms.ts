/*
 * Emit transforms for a cell. The cell runs as the body of an async function over a persistent `exports`
 * object (cell-script.ts), so:
 *   - before: the last expression statement becomes `export const <var> = <expr>` (the cell's value);
 *   - after: names of earlier cells (imported on the cell's scope line) are read and written as `exports.name`,
 *     and the scope line's import goes;
 *   - afterDeclarations: the next cell's declarations lose the export list and the scope line's import
 *     (the declarations they name are carried over by remainingDeclarations).
 */
import type * as TS from "typescript";
import type { TypeScript } from "../typescript.js";

export interface CellTransformState {
  /** The module specifier the cell's scope line imports the earlier cells' names from. */
  prevSpecifier: string;
  /** Names the cell itself declares (the last-expression variable must not clash). */
  cellNames: ReadonlySet<string>;
  /** Set by the before transform when the cell ends with an expression. */
  lastExpressionVar?: string;
}

function isScopeImport(ts: TypeScript, s: TS.Statement, specifier: string): boolean {
  return ts.isImportDeclaration(s) && ts.isStringLiteral(s.moduleSpecifier) && s.moduleSpecifier.text === specifier;
}

function lastExpressionName(names: ReadonlySet<string>): string {
  if (!names.has("tsLastExpr")) return "tsLastExpr";
  for (let i = 0; ; i++) if (!names.has(`tsLastExpr${i}`)) return `tsLastExpr${i}`;
}

export function cellTransformers(ts: TypeScript, checker: TS.TypeChecker, cellFile: TS.SourceFile, state: CellTransformState): TS.CustomTransformers {
  const f = ts.factory;

  const before: TS.TransformerFactory<TS.SourceFile> = () => (file) => {
    if (file !== cellFile) return file;
    const statements = file.statements;
    // the cell's export list (added after its code) is not the cell's last statement
    let at = statements.length - 1;
    while (at >= 0 && ts.isExportDeclaration(statements[at]!)) at--;
    const last = statements[at];
    if (!last || !ts.isExpressionStatement(last)) return file;
    const name = lastExpressionName(state.cellNames);
    state.lastExpressionVar = name;
    const decl = f.createVariableStatement(
      [f.createModifier(ts.SyntaxKind.ExportKeyword)],
      f.createVariableDeclarationList([f.createVariableDeclaration(name, undefined, undefined, last.expression)], ts.NodeFlags.Const),
    );
    ts.setTextRange(decl, last);
    return f.updateSourceFile(file, [...statements.slice(0, at), decl, ...statements.slice(at + 1)]);
  };

  /** Whether an identifier (in the original tree) names something the scope line imported. */
  const isEarlier = (id: TS.Identifier): boolean => {
    const original = ts.getOriginalNode(id);
    if (!ts.isIdentifier(original) || !original.parent) return false;
    const parent = original.parent;
    // the name of a property (`x.name`, `{ name: v }`), not a reference
    if ((ts.isPropertyAccessExpression(parent) || ts.isQualifiedName(parent)) && (parent as { name?: TS.Node }).name === original) return false;
    if (ts.isPropertyAssignment(parent) && parent.name === original) return false;
    const symbol = ts.isShorthandPropertyAssignment(parent)
      ? checker.getShorthandAssignmentValueSymbol(parent)
      : checker.getSymbolAtLocation(original);
    const decl = symbol?.declarations?.[0];
    return decl !== undefined && ts.isImportSpecifier(decl) && decl.getSourceFile() === cellFile &&
      ts.isImportDeclaration(decl.parent.parent.parent) && isScopeImport(ts, decl.parent.parent.parent, state.prevSpecifier);
  };

  const after: TS.TransformerFactory<TS.SourceFile> = (context) => (file) => {
    const visit = (node: TS.Node): TS.Node => {
      // `{ name }` for an earlier name: the property keeps its name, the value is read from exports
      if (ts.isShorthandPropertyAssignment(node) && !node.objectAssignmentInitializer && isEarlier(node.name)) {
        return f.createPropertyAssignment(node.name.text, f.createPropertyAccessExpression(f.createIdentifier("exports"), node.name.text));
      }
      if (ts.isIdentifier(node)) {
        return isEarlier(node) ? f.createPropertyAccessExpression(f.createIdentifier("exports"), node.text) : node;
      }
      return ts.visitEachChild(node, visit, context);
    };
    const statements = file.statements.filter((s) => !isScopeImport(ts, s, state.prevSpecifier));
    return f.updateSourceFile(file, ts.visitNodes(f.createNodeArray(statements), visit, ts.isStatement));
  };

  const afterDeclarations: TS.TransformerFactory<TS.SourceFile | TS.Bundle> = () => (node) => {
    if (!ts.isSourceFile(node)) return node;
    const statements = node.statements.filter((s) => !ts.isExportDeclaration(s) && !isScopeImport(ts, s, state.prevSpecifier));
    return f.updateSourceFile(node, statements);
  };

  return { before: [before], after: [after], afterDeclarations: [afterDeclarations] };
}
