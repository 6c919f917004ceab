-- dbt singular test: every fact row can be scoped to a user - it has a rep, and the rep's territory
-- and region (the one rule of the marts contract: a rep sees their rep_id, a manager their territory).
select 'fct_orders' as fact, count(*) as unscoped from {{ ref('fct_orders') }}
where rep_id is null or territory is null or region is null
having count(*) > 0
union all
select 'fct_opportunities', count(*) from {{ ref('fct_opportunities') }}
where rep_id is null or territory is null or region is null
having count(*) > 0
union all
select 'fct_invoices', count(*) from {{ ref('fct_invoices') }}
where rep_id is null or territory is null or region is null
having count(*) > 0
