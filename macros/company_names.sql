{#- A company name reduced to what identifies it across systems: lower case, '&' read as 'and',
    punctuation dropped and trailing legal forms (Inc., Corp., Co., LLC, ...) removed, so that
    "Acme Corp" (Salesforce) and "Acme Corporation, Inc." (NetSuite) both become "acme".
    Only regular-expression features shared by DuckDB (RE2) and PostgreSQL are used. -#}
{% macro normalize_company_name(column) -%}
    {%- set legal_forms = 'inc|incorporated|corp|corporation|co|company|llc|ltd|limited|plc|lp|llp' -%}
    trim(regexp_replace(
        regexp_replace(
            regexp_replace(
                regexp_replace(lower(coalesce({{ column }}, '')), '&', ' and ', 'g'),
                '[^a-z0-9 ]', '', 'g'),
            '( +({{ legal_forms }}))+ *$', '', 'g'),
        ' +', ' ', 'g'))
{%- endmacro %}
