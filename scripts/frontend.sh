#!/usr/bin/env bash
# The flow editor's front end (frontend/): TypeScript and React, bundled by Vite into
# src/konversation/dashboard/static/editor/editor.js and editor.css, which are committed so that
# the Python package ships them without Node.
#
#   scripts/frontend.sh install   npm ci (the versions of frontend/package-lock.json)
#   scripts/frontend.sh build     type-check and write the bundle
#   scripts/frontend.sh test      the editor state's tests (Vitest)
#   scripts/frontend.sh check     build into a temporary folder and fail if the result differs
#                                 from the committed bundle (someone changed the source but did
#                                 not rebuild), or if the lock file names a registry host
set -euo pipefail
cd "$(dirname "$0")/../frontend"

bundle=../src/konversation/dashboard/static/editor

case "${1:-}" in
    install)
        npm ci --no-audit --no-fund
        ;;
    build)
        npm run build
        ;;
    test)
        npm test
        ;;
    check)
        if grep -qE '"resolved"|https?:' package-lock.json; then
            echo "package-lock.json names addresses (downloads or funding pages): keep .npmrc's" \
                "omit-lockfile-registry-resolved and drop the \"funding\" entries npm adds" >&2
            exit 1
        fi
        scratch=$(mktemp -d)
        trap 'rm -rf "$scratch"' EXIT
        npx tsc --noEmit
        npx vite build --outDir "$scratch" --logLevel warn
        if ! diff -r "$bundle" "$scratch"; then
            echo "The committed editor bundle is not what the source builds: run" \
                "scripts/frontend.sh build and commit it" >&2
            exit 1
        fi
        ;;
    *)
        echo "usage: $0 install|build|test|check" >&2
        exit 2
        ;;
esac
