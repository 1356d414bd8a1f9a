// SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0
/*
 * The handler export surface: every function declared in tcmu-runner.h,
 * tcmu_upstream.h (the upstream ABI),
 * libtcmu.h and libtcmu_log.h is listed in daemon/handler-api.syms and
 * defined in the dynamic symbol table of the tcmu-runner binary; the list
 * names nothing else.  Usage: test_syms <include dir> <syms file> <binary>.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "dtest.h"

#define MAX_NAMES 512

struct names {
	char *v[MAX_NAMES];
	int n;
};

static void add(struct names *s, const char *p, size_t len)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strlen(s->v[i]) == len && !strncmp(s->v[i], p, len))
			return;
	if (s->n < MAX_NAMES)
		s->v[s->n++] = strndup(p, len);
}

static void names_free(struct names *s)
{
	while (s->n > 0)
		free(s->v[--s->n]);
}

static bool has(const struct names *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->v[i], name))
			return true;
	return false;
}

/* Blank out comments, preprocessor lines and `#ifdef __cplusplus` blocks. */
static void clean(char *t)
{
	char *p = t;
	bool bol = true;

	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			char *e = strstr(p + 2, "*/");

			e = e ? e + 2 : p + strlen(p);
			for (; p < e; p++)
				if (*p != '\n')
					*p = ' ';
			continue;
		}
		if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
			continue;
		}
		if (bol && *p == '#') {
			bool cpp = !strncmp(p, "#ifdef __cplusplus", 18);

			for (;;) {
				while (*p && *p != '\n') {
					if (p[0] == '\\' && p[1] == '\n')
						*p++ = ' ';
					*p++ = ' ';
				}
				if (!cpp || !*p)
					break;
				p++;
				if (!strncmp(p, "#endif", 6))
					cpp = false;
			}
			continue;
		}
		bol = *p == '\n' || (bol && isspace((unsigned char)*p));
		p++;
	}
}

static int parse_header(const char *path, struct names *out)
{
	char *t = dt_slurp(path), *p;
	int brace = 0, paren = 0;

	if (!t)
		return -1;
	clean(t);
	for (p = t; *p; p++) {
		if (*p == '{')
			brace++;
		else if (*p == '}')
			brace--;
		else if (*p == ')')
			paren--;
		else if (*p == '(') {
			char *e = p, *b;
			char *q = p + 1;

			paren++;
			if (brace || paren != 1)
				continue;
			while (isspace((unsigned char)*q))
				q++;
			if (*q == '*')
				continue; /* function pointer type */
			while (e > t && isspace((unsigned char)e[-1]))
				e--;
			b = e;
			while (b > t && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
				b--;
			if (b == e || !strncmp(b, "__", 2))
				continue;
			add(out, b, (size_t)(e - b));
		}
	}
	free(t);
	return 0;
}

static int parse_syms(const char *path, struct names *out)
{
	char *t = dt_slurp(path), *p;

	if (!t)
		return -1;
	clean(t);
	for (p = t; *p; p++) {
		char *b = p;

		if (!isalpha((unsigned char)*p) && *p != '_')
			continue;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		add(out, b, (size_t)(p - b));
		if (!*p)
			break;
	}
	free(t);
	return 0;
}

static int parse_elf(const char *path, struct names *out)
{
	int fd = open(path, O_RDONLY);
	const Elf64_Ehdr *eh;
	const Elf64_Shdr *sh;
	struct stat st;
	uint8_t *m;
	int i;

	if (fd < 0 || fstat(fd, &st))
		return -1;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return -1;
	eh = (const Elf64_Ehdr *)m;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64)
		return -1;
	sh = (const Elf64_Shdr *)(m + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		const Elf64_Sym *sym;
		const char *str;
		size_t j, n;

		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		sym = (const Elf64_Sym *)(m + sh[i].sh_offset);
		str = (const char *)(m + sh[sh[i].sh_link].sh_offset);
		n = sh[i].sh_size / sizeof(*sym);
		for (j = 0; j < n; j++)
			if (sym[j].st_shndx != SHN_UNDEF &&
			    ELF64_ST_TYPE(sym[j].st_info) == STT_FUNC)
				add(out, str + sym[j].st_name, strlen(str + sym[j].st_name));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char *const headers[] = { "tcmu-runner.h", "libtcmu.h", "libtcmu_log.h",
					       "tcmu_upstream.h" };
	struct names decl = { 0 }, syms = { 0 }, elf = { 0 };
	char path[512];
	unsigned int h;
	int i;

	REQUIRE(argc == 4, "usage: test_syms <include dir> <syms> <binary>");
	STEP("parse the public headers");
	for (h = 0; h < sizeof(headers) / sizeof(headers[0]); h++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], headers[h]);
		REQUIRE(!parse_header(path, &decl), "read %s", path);
	}
	printf("  %d functions declared\n", decl.n);
	REQUIRE(decl.n > 50 && has(&decl, "tcmur_register_handler_v") &&
			has(&decl, "tcmulib_get_next_command") && has(&decl, "tcmu_log_message") &&
			!has(&decl, "read") && !has(&decl, "tcmur_cmd_done_fn"),
		"header parser sanity");
	REQUIRE(!parse_syms(argv[2], &syms), "read %s", argv[2]);
	REQUIRE(!parse_elf(argv[3], &elf), "read ELF %s", argv[3]);

	STEP("each declared function is in handler-api.syms and exported by tcmu-runner");
	for (i = 0; i < decl.n; i++) {
		CHECK(has(&syms, decl.v[i]), "%s missing from handler-api.syms", decl.v[i]);
		CHECK(has(&elf, decl.v[i]), "%s not exported by the binary", decl.v[i]);
	}
	STEP("handler-api.syms lists nothing that is not declared");
	for (i = 0; i < syms.n; i++)
		CHECK(has(&decl, syms.v[i]), "%s in handler-api.syms but in no header", syms.v[i]);
	names_free(&decl);
	names_free(&syms);
	names_free(&elf);
	return check_exit();
}
