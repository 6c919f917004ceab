with source as (
    select * from {{ source('salesforce', 'event') }}
),

renamed as (
    select
        cast(id as varchar) as event_id,
        cast(subject as varchar) as subject,
        cast(activity_date as date) as activity_date,
        {{ to_utc_timestamp('start_date_time') }} as starts_at,
        {{ to_utc_timestamp('end_date_time') }} as ends_at,
        cast(duration_in_minutes as bigint) as duration_minutes,
        cast(location as varchar) as location,
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
