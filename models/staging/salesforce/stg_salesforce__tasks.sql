with source as (
    select * from {{ source('salesforce', 'task') }}
),

renamed as (
    select
        cast(id as varchar) as task_id,
        cast(subject as varchar) as subject,
        cast(task_subtype as varchar) as task_subtype,
        cast(activity_date as date) as activity_date,
        cast(status as varchar) as status,
        cast(priority as varchar) as priority,
        cast(is_closed as boolean) as is_closed,
        cast(what_id as varchar) as what_id,
        cast(who_id as varchar) as who_id,
        cast(account_id as varchar) as account_id,
        cast(owner_id as varchar) as owner_id,
        cast(is_deleted as boolean) as is_deleted,
        {{ to_utc_timestamp('created_date') }} as created_at,
        {{ to_utc_timestamp('system_modstamp') }} as system_modstamp,
        cast(_dlt_load_id as varchar) as _dlt_load_id
    from source
)

select * from renamed
