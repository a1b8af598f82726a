/* The guest agent's JSON writer, checked against libjq's parser: the guest
 * is linked statically without libjq, and the host must parse every record
 * it writes, whatever bytes a scheduler printed. */
#include "../../guest/json_out.c"

#include "json.h"
#include "tap.h"

#include <math.h>

/* The text must parse, and its string "s" must equal want. */
static void check_string(const char *input, size_t len, const char *want, const char *name)
{
	struct json_out out = JSON_OUT_INIT;
	char *why = NULL;

	json_out_object_begin(&out);
	json_out_key(&out, "s");
	json_out_string_len(&out, input, len);
	json_out_object_end(&out);
	jv doc = json_parse(json_out_text(&out), out.len, NULL, &why);
	if (ok(jv_is_valid(doc), "%s: output parses", name))
		is_str(json_str(doc, "s"), want, "%s: value survives", name);
	else
		printf("# %s: %s\n# text: %s\n", name, why, json_out_text(&out));
	jv_free(doc);
	free(why);
	json_out_release(&out);
}

int main(void)
{
	struct json_out out = JSON_OUT_INIT;

	check_string("plain", 5, "plain", "plain text");
	check_string("a \"quoted\" \\ path", 17, "a \"quoted\" \\ path", "quotes and backslash");
	check_string("line1\nline2\ttab\r", 16, "line1\nline2\ttab\r", "newline, tab, carriage return");
	check_string("bell\a esc\x1b del\x7f", 15, "bell\a esc\x1b del\x7f", "other control characters");
	check_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		     "valid UTF-8 is kept");
	check_string("bad \xff byte", 10, "bad \xef\xbf\xbd byte", "an invalid byte becomes U+FFFD");
	check_string("cut \xe2\x82", 6, "cut \xef\xbf\xbd\xef\xbf\xbd", "a cut sequence becomes U+FFFD");
	check_string("over \xc0\xaf", 7, "over \xef\xbf\xbd\xef\xbf\xbd", "an overlong form is rejected");
	check_string("sur \xed\xa0\x80", 7, "sur \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "a surrogate is rejected");
	check_string("nul\0in", 6, "nul", "an embedded NUL is escaped");

	json_out_object_begin(&out);
	json_out_kv_int(&out, "neg", -5);
	json_out_kv_uint(&out, "big", 18446744073709551615ull);
	json_out_kv_double(&out, "pct", 12.5);
	json_out_kv_double(&out, "nan", NAN);
	json_out_kv_double(&out, "inf", INFINITY);
	json_out_kv_bool(&out, "yes", true);
	json_out_kv_string(&out, "none", NULL);
	json_out_key(&out, "list");
	json_out_array_begin(&out);
	json_out_int(&out, 1);
	json_out_array_begin(&out);
	json_out_array_end(&out);
	json_out_object_begin(&out);
	json_out_object_end(&out);
	json_out_null(&out);
	json_out_array_end(&out);
	json_out_object_end(&out);
	is_str(json_out_text(&out),
	       "{\"neg\":-5,\"big\":18446744073709551615,\"pct\":12.5,\"nan\":null,\"inf\":null,"
	       "\"yes\":true,\"none\":null,\"list\":[1,[],{},null]}",
	       "numbers, literals and nesting are written compactly");
	jv doc = json_parse(json_out_text(&out), out.len, NULL, NULL);
	ok(jv_is_valid(doc), "the nested document parses");
	jv_free(doc);
	json_out_release(&out);

	is_str(json_out_text(&out), "", "a released writer is empty");
	return done_testing();
}
