-- Salesforce accounts matched to NetSuite customers: one row per customer of the business.
--
-- 1. By cross-reference ids: the account's NetSuite_Customer_Id__c, or the customer's external id
--    (which holds the Salesforce Account Id). Where both exist and disagree, a pair confirmed from both
--    sides wins, then the lowest NetSuite id; each account and each customer is matched at most once.
-- 2. For what is left on both sides, by normalised company name ("Acme Corp" = "Acme Corporation,
--    Inc."), only where that name is unique among the unmatched on each side.
-- 3. Accounts left over are Salesforce-only (prospects); customers left over are NetSuite-only.
--
-- customer_id is the Salesforce Account Id when there is an account, else 'NS-<NetSuite id>'.

with accounts as (
    select
        account_id,
        account_name,
        netsuite_customer_ref,
        owner_id,
        created_at,
        {{ normalize_company_name('account_name') }} as match_name
    from {{ ref('stg_salesforce__accounts') }}
    where not coalesce(is_deleted, false)
),

customers as (
    select
        customer_id as netsuite_customer_id,
        company_name,
        external_id,
        sales_rep_employee_id,
        created_at,
        {{ normalize_company_name('company_name') }} as match_name
    from {{ ref('stg_netsuite__customers') }}
),

employees as (
    select employee_id, salesforce_user_id from {{ ref('stg_netsuite__employees') }}
),

id_links as (
    select
        accounts.account_id,
        customers.netsuite_customer_id,
        max(case when accounts.netsuite_customer_ref = cast(customers.netsuite_customer_id as varchar) then 1 else 0 end)
            + max(case when customers.external_id = accounts.account_id then 1 else 0 end) as confirmations
    from accounts
    inner join customers
        on accounts.netsuite_customer_ref = cast(customers.netsuite_customer_id as varchar)
        or customers.external_id = accounts.account_id
    group by accounts.account_id, customers.netsuite_customer_id
),

best_link_per_account as (
    select account_id, netsuite_customer_id, confirmations
    from (
        select
            *,
            row_number() over (
                partition by account_id order by confirmations desc, netsuite_customer_id
            ) as preference
        from id_links
    ) ranked
    where preference = 1
),

id_matches as (
    select account_id, netsuite_customer_id
    from (
        select
            *,
            row_number() over (
                partition by netsuite_customer_id order by confirmations desc, account_id
            ) as preference
        from best_link_per_account
    ) ranked
    where preference = 1
),

unmatched_accounts as (
    select accounts.*
    from accounts
    where not exists (select 1 from id_matches where id_matches.account_id = accounts.account_id)
),

unmatched_customers as (
    select customers.*
    from customers
    where not exists (
        select 1 from id_matches where id_matches.netsuite_customer_id = customers.netsuite_customer_id
    )
),

unique_account_names as (
    select match_name from unmatched_accounts where match_name <> '' group by match_name having count(*) = 1
),

unique_customer_names as (
    select match_name from unmatched_customers where match_name <> '' group by match_name having count(*) = 1
),

name_matches as (
    select unmatched_accounts.account_id, unmatched_customers.netsuite_customer_id
    from unmatched_accounts
    inner join unique_account_names on unique_account_names.match_name = unmatched_accounts.match_name
    inner join unmatched_customers on unmatched_customers.match_name = unmatched_accounts.match_name
    inner join unique_customer_names on unique_customer_names.match_name = unmatched_customers.match_name
),

pairs as (
    select account_id, netsuite_customer_id, 'id' as match_method from id_matches
    union all
    select account_id, netsuite_customer_id, 'name' as match_method from name_matches
),

all_customers as (
    select
        accounts.account_id as salesforce_account_id,
        pairs.netsuite_customer_id,
        coalesce(pairs.match_method, 'salesforce_only') as match_method
    from accounts
    left join pairs on pairs.account_id = accounts.account_id
    union all
    select
        cast(null as varchar) as salesforce_account_id,
        customers.netsuite_customer_id,
        'netsuite_only' as match_method
    from customers
    where not exists (select 1 from pairs where pairs.netsuite_customer_id = customers.netsuite_customer_id)
)

select
    coalesce(all_customers.salesforce_account_id, 'NS-' || cast(all_customers.netsuite_customer_id as varchar))
        as customer_id,
    all_customers.salesforce_account_id,
    all_customers.netsuite_customer_id,
    all_customers.match_method,
    coalesce(accounts.account_name, customers.company_name) as customer_name,
    coalesce(accounts.owner_id, employees.salesforce_user_id) as rep_id,
    case
        when accounts.created_at is null then customers.created_at
        when customers.created_at is null then accounts.created_at
        when customers.created_at < accounts.created_at then customers.created_at
        else accounts.created_at
    end as created_at
from all_customers
left join accounts on accounts.account_id = all_customers.salesforce_account_id
left join customers on customers.netsuite_customer_id = all_customers.netsuite_customer_id
left join employees on employees.employee_id = customers.sales_rep_employee_id
