using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace AiRbac.Cli.StoreFilters;

/// <summary>
/// A field of <see cref="FilterRow"/>, the record type <c>airbac filter</c> builds store filters for.
/// </summary>
internal enum RowField
{
    Name,
    Scope,
    Tier,
    Tags,
    Owner,
}

/// <summary>
/// A store filter's predicate read back into the shapes it is documented to hold (docs/retrieval.md, "Store filters":
/// <c>==</c>, <c>!=</c>, <c>&amp;&amp;</c>, <c>||</c>, <c>!</c>, constants, captured values, the mapped fields,
/// <c>Enumerable.Contains</c>, the <c>Like</c> option's call and the <c>TagSubset</c> option's <c>All</c>), for the SQL
/// and C# writers. It reads what <see cref="PolicyFilter.ToStoreFilter{TRecord}"/> built, as a LINQ provider does,
/// and decides nothing itself; a node of any other shape is refused (<see cref="NotSupportedException"/>), never guessed.
/// </summary>
internal abstract record PredicateNode
{
    /// <summary>
    /// Reads a predicate over <see cref="FilterRow"/>. Chains of <c>&amp;&amp;</c> and <c>||</c> are flattened without
    /// recursion; a subtree the builder shares (the catalog's checks) is read once.
    /// </summary>
    /// <exception cref="NotSupportedException">A node of another shape.</exception>
    /// <exception cref="InsufficientExecutionStackException">Nesting too deep to read.</exception>
    public static PredicateNode Read(Expression<Func<FilterRow, bool>> predicate)
        => new Reader(predicate.Parameters[0]).Read(predicate.Body);

    private sealed class Reader(ParameterExpression row)
    {
        private readonly Dictionary<Expression, PredicateNode> read = new(ReferenceEqualityComparer.Instance);

        public PredicateNode Read(Expression e)
        {
            if (read.TryGetValue(e, out var known))
            {
                return known;
            }

            RuntimeHelpers.EnsureSufficientExecutionStack();
            PredicateNode node = e switch
            {
                ConstantExpression { Value: bool value } => new BoolNode(value),
                BinaryExpression { NodeType: ExpressionType.AndAlso } => new AndNode([.. Chain(e).Select(Read)]),
                BinaryExpression { NodeType: ExpressionType.OrElse } => new OrNode([.. Chain(e).Select(Read)]),
                UnaryExpression { NodeType: ExpressionType.Not } not => new NotNode(Read(not.Operand)),
                BinaryExpression { NodeType: ExpressionType.Equal } equal => Comparison(equal),
                BinaryExpression { NodeType: ExpressionType.NotEqual } notEqual => new NotNode(Comparison(notEqual)),
                MethodCallExpression call => Call(call),
                _ => throw Unsupported(e),
            };
            read.Add(e, node);
            return node;
        }

        /// <summary>The operands of a chain of one operator, in order, without recursion.</summary>
        private static List<Expression> Chain(Expression e)
        {
            var operands = new List<Expression>();
            var pending = new Stack<Expression>();
            pending.Push(e);
            while (pending.Count > 0)
            {
                var next = pending.Pop();
                if (next.NodeType == e.NodeType && next is BinaryExpression binary)
                {
                    pending.Push(binary.Right);
                    pending.Push(binary.Left);
                }
                else
                {
                    operands.Add(next);
                }
            }

            return operands;
        }

        private PredicateNode Comparison(BinaryExpression e)
        {
            var field = Field(e.Left) ?? throw Unsupported(e);
            if (e.Right is ConstantExpression { Value: null })
            {
                return new IsNullNode(field);
            }

            return Value(e.Right) is string value ? new EqualsNode(field, value) : throw Unsupported(e);
        }

        private PredicateNode Call(MethodCallExpression call)
        {
            if (call.Method == FilterRow.LikeMethod)
            {
                return Field(call.Arguments[0]) is { } field && Value(call.Arguments[1]) is string pattern ? new LikeNode(field, pattern) : throw Unsupported(call);
            }

            if (call.Method.DeclaringType != typeof(Enumerable) || call.Arguments.Count != 2)
            {
                throw Unsupported(call);
            }

            if (call.Method.Name == nameof(Enumerable.Contains) && Value(call.Arguments[0]) is string[] values && Field(call.Arguments[1]) is { } item)
            {
                return new InNode(item, values);
            }

            // tags.All(t => values.Contains(t)): every tag is one of the values.
            if (call.Method.Name == nameof(Enumerable.All) && Field(call.Arguments[0]) is RowField.Tags
                && call.Arguments[1] is LambdaExpression { Parameters: [var tag], Body: MethodCallExpression { Arguments: [var list, var element] } contains }
                && contains.Method.DeclaringType == typeof(Enumerable) && contains.Method.Name == nameof(Enumerable.Contains)
                && element == tag && Value(list) is string[] cleared)
            {
                return new TagsWithinNode(RowField.Tags, cleared);
            }

            throw Unsupported(call);
        }

        /// <summary>The row's field a member access reads, or null.</summary>
        private RowField? Field(Expression e)
            => e is MemberExpression { Expression: var owner, Member.Name: var name } && owner == row && Enum.TryParse<RowField>(name, out var field) ? field : null;

        /// <summary>A constant, or a captured value (a field or property of a constant object: a store's parameter).</summary>
        private static object? Value(Expression e) => e switch
        {
            ConstantExpression { Value: string or string[] } constant => constant.Value,
            MemberExpression { Expression: ConstantExpression { Value: { } holder }, Member: PropertyInfo property } => Checked(property.GetValue(holder)),
            MemberExpression { Expression: ConstantExpression { Value: { } holder }, Member: FieldInfo field } => Checked(field.GetValue(holder)),
            _ => null,
        };

        private static object? Checked(object? value) => value switch { string or string[] => value, _ => null };

        private static NotSupportedException Unsupported(Expression e)
            => new($"a store filter node this writer does not know: {e.NodeType} ({e.Type.Name})");
    }
}

/// <summary><c>true</c> or <c>false</c>.</summary>
internal sealed record BoolNode(bool Value) : PredicateNode;

/// <summary>Every operand holds.</summary>
internal sealed record AndNode(PredicateNode[] Operands) : PredicateNode;

/// <summary>Some operand holds.</summary>
internal sealed record OrNode(PredicateNode[] Operands) : PredicateNode;

/// <summary>The operand does not hold.</summary>
internal sealed record NotNode(PredicateNode Operand) : PredicateNode;

/// <summary>The field is null.</summary>
internal sealed record IsNullNode(RowField Field) : PredicateNode;

/// <summary>The field equals the value (a null field does not).</summary>
internal sealed record EqualsNode(RowField Field, string Value) : PredicateNode;

/// <summary>The field is one of the values (a null field is not; the values hold no null).</summary>
internal sealed record InNode(RowField Field, string[] Values) : PredicateNode;

/// <summary>The field matches the <c>LIKE</c> pattern, <c>\</c> escaping <c>%</c>, <c>_</c> and <c>\</c> (a null field does not).</summary>
internal sealed record LikeNode(RowField Field, string Pattern) : PredicateNode;

/// <summary>The tags are not null and every tag is one of the values (a null tag is not).</summary>
internal sealed record TagsWithinNode(RowField Field, string[] Values) : PredicateNode;
