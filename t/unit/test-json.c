#include "json.h"
#include "fsutil.h"
#include "tap.h"

#include <stdlib.h>
#include <unistd.h>

static enum json_error kind_of(const char *text)
{
	enum json_error kind;
	char *msg = NULL;
	jv value = json_parse(text, strlen(text), &kind, &msg);

	jv_free(value);
	free(msg);
	return kind;
}

int main(void)
{
	char dir[] = "/tmp/ktstr-json-XXXXXX";
	enum json_error kind;
	long long number;
	bool flag;

	is_int(kind_of("{\"a\": 1}"), JSON_OK, "object parses");
	is_int(kind_of("{\"a\": 1"), JSON_TRUNCATED, "unclosed object is truncated");
	is_int(kind_of(""), JSON_TRUNCATED, "empty text is truncated");
	is_int(kind_of("{\"a\": nope}"), JSON_MALFORMED, "bad literal is malformed");
	is_int(kind_of("{\"a\": \"abc"), JSON_TRUNCATED, "unclosed string is truncated");
	is_int(kind_of("x"), JSON_MALFORMED, "a stray word is malformed, not truncated");
	is_int(kind_of("\xff"), JSON_MALFORMED, "a stray byte is malformed, not truncated");

	char *why = NULL;
	jv bad = json_parse("[1, 2,", 6, NULL, &why);
	jv_free(bad);
	ok(why && !strstr(why, "while parsing"), "error message leaves out the input text");
	free(why);

	const char *doc = "{\"s\":\"x\",\"n\":42,\"b\":true}";
	jv obj = json_parse(doc, strlen(doc), NULL, NULL);
	is_str(json_str(obj, "s"), "x", "string field read");
	ok(json_int(obj, "n", &number) && number == 42, "integer field read");
	ok(json_bool(obj, "b", &flag) && flag, "boolean field read");
	ok(json_str(obj, "n") == NULL, "number is not returned as a string");
	ok(!json_has(obj, "missing"), "missing key reported absent");

	if (!mkdtemp(dir))
		return 2;
	char *path = fs_path_join(dir, "doc.json");
	ok(json_write_file(path, jv_copy(obj)) == 0, "write file atomically");
	jv back = json_read_file(path, &kind, NULL);
	ok(jv_equal(back, jv_copy(obj)), "file reads back equal");
	jv missing = json_read_file("/nonexistent/doc.json", &kind, NULL);
	is_int(kind, JSON_MISSING, "absent file is missing");
	jv_free(missing);
	jv_free(obj);
	fs_rm_rf(dir);
	free(path);
	return done_testing();
}
