#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
#
# tests/lint.sh [--no-format]: static checks of the tree, one PASS/FAIL/SKIP line
# per check (tests/run-all.sh counts them in its "lint" step):
#   lint/shellcheck    shellcheck -x on every tracked shell script (*.sh, and
#                      files starting with a sh/bash #! line, e.g. .ci/run)
#   lint/clang-format  clang-format --dry-run -Werror on every tracked *.c/*.h
#                      (.clang-format, the house style); --no-format or
#                      LINT_FORMAT=0 turn it off (SKIP).  Fix with
#                      git ls-files '*.c' '*.h' | xargs clang-format -i
# Exit status non-zero when a check failed.
set -u
cd "$(dirname "$0")/.." || exit 2
FORMAT=${LINT_FORMAT:-1}
for a in "$@"; do
	case $a in
	--format) FORMAT=1 ;;
	--no-format) FORMAT=0 ;;
	-h|--help) sed -n '3,12p' "$0"; exit 0 ;;
	*) echo "unknown option: $a" >&2; exit 2 ;;
	esac
done
fail=0

# Tracked files (or every file, outside a git checkout).
files() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files
	else
		find . -path ./.git -prune -o -path './build*' -prune -o -type f -print |
			sed 's|^\./||'
	fi
}

scripts=()
while IFS= read -r f; do
	case $f in
	*.sh) scripts+=("$f") ;;
	*.*) ;;
	*) [ -f "$f" ] && head -n 1 "$f" | grep -Eq '^#!.*[/ ](ba)?sh( |$)' && scripts+=("$f") ;;
	esac
done < <(files)

if ! command -v shellcheck >/dev/null 2>&1; then
	echo "FAIL lint/shellcheck (shellcheck not installed: tests/vm/deps.sh installs it)"
	fail=1
elif shellcheck -x "${scripts[@]}"; then
	echo "PASS lint/shellcheck (${#scripts[@]} scripts)"
else
	echo "FAIL lint/shellcheck"
	fail=1
fi

if [ "$FORMAT" != 1 ]; then
	echo "SKIP lint/clang-format (turned off: LINT_FORMAT=0 or --no-format)"
elif ! command -v clang-format >/dev/null 2>&1; then
	echo "FAIL lint/clang-format (clang-format not installed: tests/vm/deps.sh installs it)"
	fail=1
else
	sources=()
	while IFS= read -r f; do
		case $f in *.c|*.h) sources+=("$f") ;; esac
	done < <(files)
	if clang-format --dry-run -Werror "${sources[@]}"; then
		echo "PASS lint/clang-format (${#sources[@]} files)"
	else
		echo "FAIL lint/clang-format"
		fail=1
	fi
fi
exit $fail
