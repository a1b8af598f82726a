# Toolchain, flags and output directory.

MAKEFLAGS += --no-builtin-rules --no-builtin-variables
.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:
.DEFAULT_GOAL := all

KTSTR_VERSION := 0.1.0

O ?= build
override O := $(abspath $(O))
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
ifeq ($(origin CC),default)
CC := cc
endif
AR ?= ar
ifeq ($(origin AR),default)
AR := ar
endif
CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith -Wmissing-prototypes \
	-Wstrict-prototypes -Wno-unused-parameter
# CI builds treat every warning as an error; WERROR=1 does the same locally.
ifneq ($(CI)$(WERROR),)
WARNINGS += -Werror
endif
BASE_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DKTSTR_VERSION='"$(KTSTR_VERSION)"' \
	-Ilib $(WARNINGS) -MMD -MP
ALL_CFLAGS = $(BASE_CFLAGS) $(CFLAGS) $(CPPFLAGS)
CURL_CFLAGS := $(shell pkg-config --cflags libcurl 2>/dev/null)

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-8s %s\n'
endif
