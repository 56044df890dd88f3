# The two commands of the quick start, and a few more for development.
#   make run    build and start the inspection server on the embedded defaults
#   make test   run every test suite
.PHONY: run test build release deps clean install

# Extra arguments for `pcb serve`, e.g. make run ARGS="--model my.onnx --port 8080"
ARGS ?=
# Where `make install` puts the binary and its files (deploy/ expects /opt/pcb).
PREFIX ?= /opt/pcb

deps:
	./scripts/install-deps.sh

build: deps
	swift build

release: deps
	swift build -c release

run: release
	.build/release/pcb serve $(ARGS)

# Every suite; the MySQL store suite runs on a private MariaDB that the script starts and stops.
test:
	./scripts/test.sh

# The release binary and the files it reads, under PREFIX (scripts/install.sh).
install: release
	./scripts/install.sh $(PREFIX)

clean:
	rm -rf .build
