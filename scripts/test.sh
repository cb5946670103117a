#!/usr/bin/env bash
# Command 2: install what is missing, build everything (the channelguard executable included, which
# the end-to-end tests run), and run the test suite. Tests start their own throwaway PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# Style first: .swift-format is the project's (swift-nio's settings).
swift format lint --strict --recursive Sources Tests Benchmarks/Benchmarks Package.swift Benchmarks/Package.swift
swift build --build-tests
swift test --skip-build "$@"
