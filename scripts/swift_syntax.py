"""Parses Swift files with tree-sitter's Swift grammar; exits 1 listing every syntax error."""
import sys

import tree_sitter
import tree_sitter_swift

parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))

# Valid Swift the grammar does not know (uniffi emits it): blanked, keeping offsets, before
# parsing. Anything else that fails to parse is reported.
GRAMMAR_GAPS = [b"@_documentation(visibility: private)"]
# Valid Swift the grammar misreads, rewritten to the same meaning and length: `{ () }`, a
# closure returning the empty tuple (uniffi's writeReturn for a foreign method returning
# nothing), is the empty closure `{    }`.
GRAMMAR_REWRITES = [(b"{ () }", b"{    }")]


def errors(node, found):
    if node.type == "ERROR" or node.is_missing:
        found.append(node)
    for child in node.children:
        errors(child, found)
    return found


failed = False
for path in sys.argv[1:]:
    source = open(path, "rb").read()
    for gap in GRAMMAR_GAPS:
        source = source.replace(gap, b" " * len(gap))
    for misread, same in GRAMMAR_REWRITES:
        source = source.replace(misread, same)
    tree = parser.parse(source)
    problems = errors(tree.root_node, [])
    for node in problems[:5]:
        line, column = node.start_point
        snippet = source.splitlines()[line][:100].decode(errors="replace") if line < len(source.splitlines()) else ""
        print(f"{path}:{line + 1}:{column + 1}: syntax error near: {snippet.strip()}")
    failed |= bool(problems)
    if not problems:
        print(f"ok {path}")
sys.exit(1 if failed else 0)
