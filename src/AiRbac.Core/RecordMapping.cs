using System.Linq.Expressions;

namespace AiRbac;

/// <summary>
/// Which fields of a stored record hold a resource's name, scope, tier, tags and owner, as member-access lambdas
/// (<c>d =&gt; d.Name</c>, <c>d =&gt; d.Meta.Scope</c>), for <see cref="PolicyFilter.ToStoreFilter{TRecord}"/> (docs/retrieval.md).
/// A field left unmapped is absent from every record: no scope, no caller tier, no caller tags, no owner.
/// </summary>
/// <typeparam name="TRecord">The record type of the store.</typeparam>
public sealed class RecordMapping<TRecord>
{
    private Func<TRecord, string?>? name, scope, tier, owner;
    private Func<TRecord, IEnumerable<string?>?>? tags;

    /// <summary>A mapping with the field that holds the resource's name (<c>type:name</c>).</summary>
    /// <param name="name">A member access on the record, for example <c>d =&gt; d.Name</c>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a chain of member accesses on its parameter.</exception>
    public RecordMapping(Expression<Func<TRecord, string?>> name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = Checked(name, nameof(name))!;
    }

    /// <summary>The field holding the resource's name.</summary>
    public Expression<Func<TRecord, string?>> Name { get; }

    /// <summary>The field holding the resource's scope (for example <c>acme/health</c>), or <see langword="null"/> when records have none.</summary>
    /// <exception cref="ArgumentException">The value is not a chain of member accesses on its parameter.</exception>
    public Expression<Func<TRecord, string?>>? Scope { get => field; init => field = Checked(value, nameof(Scope)); }

    /// <summary>The field holding a tier the record asserts (combined with the catalog's, the higher wins), or <see langword="null"/>.</summary>
    /// <exception cref="ArgumentException">The value is not a chain of member accesses on its parameter.</exception>
    public Expression<Func<TRecord, string?>>? Tier { get => field; init => field = Checked(value, nameof(Tier)); }

    /// <summary>The field holding the record's tags (an array or list of strings), or <see langword="null"/>.</summary>
    /// <exception cref="ArgumentException">The value is not a chain of member accesses on its parameter.</exception>
    public Expression<Func<TRecord, IEnumerable<string?>?>>? Tags { get => field; init => field = Checked(value, nameof(Tags)); }

    /// <summary>The field holding the id of the record's owner (the two-person rule), or <see langword="null"/>.</summary>
    /// <exception cref="ArgumentException">The value is not a chain of member accesses on its parameter.</exception>
    public Expression<Func<TRecord, string?>>? Owner { get => field; init => field = Checked(value, nameof(Owner)); }

    /// <summary>The resource a record describes, as <see cref="CompiledPolicy.Authorize(Subject, string, in ResourceRequest)"/> reads it.</summary>
    /// <param name="record">The record.</param>
    /// <returns>Its name, scope, tier, tags and owner, from the mapped fields.</returns>
    /// <remarks>The first call compiles the mapped lambdas (cold); later calls only read the fields.</remarks>
    public ResourceRequest ToResource(TRecord record)
    {
        name ??= Name.Compile();
        scope ??= Scope?.Compile() ?? (_ => null);
        tier ??= Tier?.Compile() ?? (_ => null);
        owner ??= Owner?.Compile() ?? (_ => null);
        tags ??= Tags?.Compile() ?? (_ => null);
        string?[]? recordTags = tags(record)?.ToArray();
        return new ResourceRequest(name(record)!)
        {
            Scope = scope(record),
            Sensitivity = tier(record),
            Tags = recordTags is null ? default : new ReadOnlyMemory<string>(recordTags!),
            Owner = owner(record),
        };
    }

    /// <summary>The field's expression on <paramref name="record"/> (the lambda's body with its parameter replaced), without the reference conversion the compiler may add.</summary>
    internal static Expression? Body(LambdaExpression? lambda, ParameterExpression record)
        => lambda is null ? null : new ParameterReplacer(lambda.Parameters[0], record).Visit(Unconverted(lambda.Body));

    private static Expression Unconverted(Expression body)
    {
        while (body is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert && !convert.Operand.Type.IsValueType)
        {
            body = convert.Operand;
        }

        return body;
    }

    private static T? Checked<T>(T? lambda, string parameter)
        where T : LambdaExpression
    {
        if (lambda is null)
        {
            return null;
        }

        Expression node = Unconverted(lambda.Body);
        while (node is MemberExpression { Expression: { } inner })
        {
            node = inner;
        }

        if (node != lambda.Parameters[0] || Unconverted(lambda.Body) == lambda.Parameters[0])
        {
            throw new ArgumentException("A mapped field must be a chain of member accesses on the record, such as d => d.Name.", parameter);
        }

        return lambda;
    }
}
