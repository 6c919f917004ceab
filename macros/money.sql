{#- Money in the company currency: DECIMAL(18,2), rounded to the cent. -#}
{% macro money(expression) -%}
    cast({{ expression }} as decimal(18, 2))
{%- endmacro %}

{#- An exact DECIMAL sum of money, 0 when there is nothing to sum. -#}
{% macro sum_money(expression) -%}
    cast(coalesce(sum({{ expression }}), 0) as decimal(18, 2))
{%- endmacro %}
