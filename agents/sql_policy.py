"""What SQL the guard lets run: an allow-list, in DuckDB's own names, of the functions a query may call.

The list names functions as DuckDB will execute them, not as they were written: the guard renders each
function call for DuckDB and checks the name the rendering starts with, on the parsed query and again on
the re-parsed final SQL. So a spelling sqlglot translates (``GENERATOR(n)`` renders as ``RANGE(n)``,
``GENERATE_DATE_ARRAY`` as ``GENERATE_SERIES``) is judged by what it becomes.

Everything here only computes over values already read from the marts: no function reads files, the
network, settings, secrets or the catalogue, and none makes rows out of nothing (``range``,
``generate_series``, ``repeat_row``: a scalar list of 300 million elements is not interruptible). What a
computational function can still cost (a huge ``lpad``, a cross join) is bounded by the resource budget
of the connection (see :func:`scc.warehouse.reader_budget`), not by this list.

To allow a function, add its DuckDB name here with a test in ``tests/agents/test_guard.py``.
"""

from __future__ import annotations

AGGREGATES = frozenset({
    "count", "count_star", "sum", "avg", "mean", "min", "max", "median", "mode", "quantile", "quantile_cont",
    "quantile_disc", "percentile_cont", "percentile_disc", "approx_count_distinct", "approx_quantile",
    "count_if", "countif", "sum_no_overflow", "fsum", "favg", "kahan_sum", "sumkahan", "product",
    "arg_max", "arg_min", "argmax", "argmin", "max_by", "min_by", "first", "last", "any_value", "arbitrary",
    "bool_and", "bool_or", "string_agg", "listagg", "group_concat", "list", "array_agg", "histogram",
    "stddev", "stddev_pop", "stddev_samp", "var_pop", "var_samp", "variance", "corr", "covar_pop",
    "covar_samp", "regr_slope", "regr_intercept", "regr_r2", "regr_count", "regr_avgx", "regr_avgy",
    "entropy", "kurtosis", "kurtosis_pop", "skewness", "bit_and", "bit_or", "bit_xor",
})

WINDOW = frozenset({
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value",
    "last_value", "nth_value",
})

CONDITIONAL = frozenset({
    "case", "exists", "coalesce", "ifnull", "nullif", "if", "iff", "greatest", "least", "nullifzero", "zeroifnull",
    "cast", "try_cast", "typeof",
})

MATH = frozenset({
    "abs", "round", "round_even", "roundbankers", "floor", "ceil", "ceiling", "trunc", "sign", "sqrt", "cbrt",
    "pow", "power", "exp", "ln", "log", "log10", "log2", "mod", "fmod", "fdiv", "divide", "add", "subtract",
    "multiply", "even", "pi", "radians", "degrees", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
    "isnan", "isinf", "isfinite", "gamma", "lgamma", "factorial", "bit_count", "xor", "gcd", "lcm",
})

STRINGS = frozenset({
    "lower", "upper", "lcase", "ucase", "length", "len", "strlen", "char_length", "character_length",
    "octet_length", "substring", "substr", "left", "right", "lpad", "rpad", "ltrim", "rtrim", "trim", "concat",
    "concat_ws", "replace", "reverse", "strpos", "instr", "position", "contains", "starts_with",
    "ends_with", "prefix", "suffix", "like_escape", "split_part", "string_split", "str_split",
    "regexp_matches", "regexp_full_match", "regexp_replace", "regexp_extract", "regexp_split_to_array",
    "format", "printf", "strip_accents", "nfc_normalize", "ascii", "chr", "initcap", "md5", "hash", "sha256",
    "jaro_winkler_similarity", "jaro_similarity", "levenshtein", "damerau_levenshtein", "hamming",
    "mismatches", "jaccard", "editdist3", "format_bytes", "formatreadabledecimalsize", "formatreadablesize",
    "to_base", "bar", "translate", "array_to_string", "list_to_string",
})

DATES = frozenset({
    "current_date", "current_timestamp", "now", "today", "get_current_date", "get_current_timestamp",
    "date_trunc", "datetrunc", "time_bucket", "date_part", "datepart", "extract", "date_diff", "datediff",
    "date_sub", "datesub", "date_add", "make_date", "make_timestamp", "make_time", "last_day", "dayname",
    "monthname", "year", "quarter", "month", "week", "weekofyear", "yearweek", "day", "dayofmonth",
    "dayofweek", "dayofyear", "isodow", "isoyear", "weekday", "hour", "minute", "second", "epoch",
    "epoch_ms", "epoch_us", "to_timestamp", "to_days", "to_months", "to_years", "to_weeks", "to_hours",
    "to_minutes", "to_seconds", "age", "century", "decade", "millennium", "era", "strftime", "strptime",
    "try_strptime", "date", "timestamp", "interval",
})

LISTS = frozenset({
    "list_value", "list_pack", "array_length", "cardinality", "list_aggregate", "list_sort", "array_sort",
    "list_contains", "list_has", "array_contains", "array_has", "list_extract", "list_element",
    "list_distinct", "array_distinct", "list_slice", "array_slice", "unnest", "struct_pack", "struct_extract",
    "row",
})

ALLOWED_FUNCTIONS = AGGREGATES | WINDOW | CONDITIONAL | MATH | STRINGS | DATES | LISTS

# Functions allowed in FROM (table functions). ``unnest`` only spreads a list the query already holds.
ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest"})

# What the DuckDB-dialect SQL becomes when it is transpiled for a PostgreSQL warehouse: PostgreSQL's names
# of the same computations (checked again on the PostgreSQL text before it runs).
POSTGRES_FUNCTIONS = frozenset({
    "to_char", "to_date", "to_timestamp", "to_number", "date_part", "make_interval", "justify_interval",
    "string_to_array", "array_to_string", "array_length", "array_position", "strpos", "percentile_cont",
    "percentile_disc", "regexp_like", "regexp_match", "btrim", "bool_and", "bool_or", "every", "width_bucket",
})
