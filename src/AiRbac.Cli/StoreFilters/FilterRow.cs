using System.Linq.Expressions;
using System.Reflection;
using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Cli.StoreFilters;

/// <summary>
/// The row <c>airbac filter --format sql|expression</c> describes (docs/cli.md): a resource's name, scope, tier (its
/// name, as text), tags and owner. The store filter is built for it with the PostgreSQL options (<c>Like</c> and
/// <c>TagSubset</c>), by <see cref="PolicyFilter.ToStoreFilter{TRecord}"/> like any other store's.
/// </summary>
internal sealed class FilterRow
{
    /// <summary>The <c>Like</c> option's method, which the writers recognise; it is never called.</summary>
    public static readonly MethodInfo LikeMethod = ((MethodCallExpression)((Expression<Func<string, string, bool>>)((s, p) => Like(s, p))).Body).Method;

    /// <summary>The options: <c>LIKE</c> with <c>\</c> as escape, and the tag subset test (<c>tags &lt;@ ARRAY[...]</c>).</summary>
    public static readonly StoreFilterOptions Options = new() { Like = (s, p) => Like(s, p), TagSubset = true };

    public string Name { get; set; } = string.Empty;

    public string? Scope { get; set; }

    public string? Tier { get; set; }

    public string?[]? Tags { get; set; }

    public string? Owner { get; set; }

    /// <summary>The record mapping: every field mapped except those the columns leave out.</summary>
    public static RecordMapping<FilterRow> Mapping(FilterColumns columns) => new(r => r.Name)
    {
        Scope = columns[RowField.Scope] is null ? null : r => r.Scope,
        Tier = columns[RowField.Tier] is null ? null : r => r.Tier,
        Tags = columns[RowField.Tags] is null ? null : r => r.Tags,
        Owner = columns[RowField.Owner] is null ? null : r => r.Owner,
    };

    /// <summary>Stands for the store's <c>LIKE</c> in the predicate; the writers translate it.</summary>
    private static bool Like(string value, string pattern) => throw new NotSupportedException("a marker for the SQL and C# writers, never called");
}

/// <summary>
/// The column of each field for <c>--format sql</c>: by default <c>name</c>, <c>scope</c>, <c>tier</c>, <c>tags</c> and
/// <c>owner</c>; <c>--column FIELD=COLUMN</c> renames one, <c>--column FIELD=</c> says the table has no such column
/// (the field is absent from every row, as an unmapped field of a record mapping). Every column name is one identifier,
/// written quoted.
/// </summary>
internal sealed class FilterColumns
{
    /// <summary>PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1); a longer one would be cut silently.</summary>
    private const int MaxIdentifierBytes = 63;

    private readonly string?[] columns = ["name", "scope", "tier", "tags", "owner"];

    /// <summary>The column of a field, or null when the table has none.</summary>
    public string? this[RowField field] => columns[(int)field];

    /// <summary>The columns given by <c>--column</c> options over the defaults.</summary>
    /// <exception cref="UsageException">A malformed, repeated or unknown field, or a column name PostgreSQL would not keep as written.</exception>
    public static FilterColumns Parse(IEnumerable<string> specs)
    {
        var result = new FilterColumns();
        var seen = new HashSet<RowField>();
        foreach (string spec in specs)
        {
            int equals = spec.IndexOf('=', StringComparison.Ordinal);
            string key = equals < 0 ? spec : spec[..equals];
            RowField? known = key switch
            {
                "name" => RowField.Name,
                "scope" => RowField.Scope,
                "tier" => RowField.Tier,
                "tags" => RowField.Tags,
                "owner" => RowField.Owner,
                _ => null,
            };
            if (equals < 0 || known is not { } field)
            {
                throw new UsageException($"--column: '{UnsafeText.Escape(spec)}' is not FIELD=COLUMN with FIELD one of name, scope, tier, tags, owner");
            }

            if (!seen.Add(field))
            {
                throw new UsageException($"--column: {key} is given twice");
            }

            string column = spec[(equals + 1)..];
            if (column.Length == 0 && field == RowField.Name)
            {
                throw new UsageException("--column: the name column is required (a resource without a name is never allowed)");
            }

            if (UnsafeText.IndexOfUnsafe(column) >= 0 || HasLoneSurrogate(column) || Encoding.UTF8.GetByteCount(column) > MaxIdentifierBytes)
            {
                throw new UsageException($"--column: '{UnsafeText.Escape(column)}' is not a column name PostgreSQL keeps as written (at most 63 bytes, no control characters)");
            }

            result.columns[(int)field] = column.Length == 0 ? null : column;
        }

        return result;
    }

    /// <summary>Whether the text holds a surrogate without its pair (PostgreSQL cannot store it).</summary>
    public static bool HasLoneSurrogate(string text)
    {
        for (int i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return true;
            }
        }

        return false;
    }
}
