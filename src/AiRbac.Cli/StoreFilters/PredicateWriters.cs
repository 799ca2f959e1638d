using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using AiRbac.Diagnostics;

namespace AiRbac.Cli.StoreFilters;

/// <summary>
/// Writes a <see cref="PredicateNode"/> as text, a chain of <c>AND</c> or <c>OR</c> on one line when its operands are
/// short tests and one operand a line otherwise, and refuses (<see cref="NotSupportedException"/>) to write more than
/// its limit: a store filter shares subtrees (the catalog's checks) that text repeats, and a cut condition must never
/// be printed.
/// </summary>
internal abstract class PredicateWriter(int limit)
{
    /// <summary>The longest chain written on one line.</summary>
    private const int InlineWidth = 100;

    private readonly StringBuilder text = new();

    /// <summary>The text written.</summary>
    public override string ToString() => text.ToString();

    /// <summary>Appends text, or throws past the limit.</summary>
    protected void Append(string value)
    {
        if (text.Length + value.Length > limit)
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"the text would be longer than {limit:N0} characters"));
        }

        text.Append(value);
    }

    /// <summary>A chain of operands joined by an operator: inline when every operand is a short test, else one a line.</summary>
    protected void Chain(PredicateNode[] operands, string separator, int indent, Func<PredicateNode, string?> inline, Action<PredicateNode, int> write)
    {
        RuntimeHelpers.EnsureSufficientExecutionStack();
        var tests = new List<string>(operands.Length);
        int width = 2;
        foreach (var operand in operands)
        {
            string? test = inline(operand);
            if (test is null || (width += test.Length + separator.Length + 2) > InlineWidth)
            {
                tests = null;
                break;
            }

            tests.Add(test);
        }

        if (tests is not null)
        {
            Append("(" + string.Join(" " + separator + " ", tests) + ")");
            return;
        }

        Append("(\n");
        for (int i = 0; i < operands.Length; i++)
        {
            Append(new string(' ', 2 * (indent + 1)));
            if (i > 0)
            {
                Append(separator + " ");
            }

            write(operands[i], indent + 1);
            Append("\n");
        }

        Append(new string(' ', 2 * indent) + ")");
    }
}

/// <summary>
/// The condition of a PostgreSQL <c>WHERE</c> clause (docs/cli.md, `airbac filter`). Negations are pushed down to the
/// tests (De Morgan), and each test is written so that it is true exactly when the predicate's test holds and false or
/// null otherwise (a negated test on a column that may be null says <c>col IS NULL OR ...</c>): with only <c>AND</c> and
/// <c>OR</c> above the tests, a null never turns into true, so the condition holds exactly for the rows the predicate
/// passes. Columns are quoted identifiers; values are string literals with <c>'</c> doubled, and written as
/// <c>E'...'</c> escape strings (<c>\\</c>, <c>\uXXXX</c>) when they hold a backslash or a character unsafe to print,
/// which reads the same whatever <c>standard_conforming_strings</c> is.
/// </summary>
internal sealed class SqlWhereWriter : PredicateWriter
{
    private readonly FilterColumns columns;

    private SqlWhereWriter(FilterColumns columns, int limit)
        : base(limit) => this.columns = columns;

    /// <summary>The condition for the node.</summary>
    /// <exception cref="NotSupportedException">A value PostgreSQL cannot hold, or text past the limit.</exception>
    /// <exception cref="InsufficientExecutionStackException">Nesting too deep to write.</exception>
    public static string Write(PredicateNode node, FilterColumns columns, int limit)
    {
        var writer = new SqlWhereWriter(columns, limit);
        writer.Write(node, positive: true, indent: 0, notNull: 0);
        return writer.ToString();
    }

    /// <summary>A string literal.</summary>
    /// <exception cref="NotSupportedException">The value holds a NUL or a lone surrogate, which PostgreSQL text cannot.</exception>
    public static string Literal(string value)
    {
        if (value.Contains('\0', StringComparison.Ordinal) || FilterColumns.HasLoneSurrogate(value))
        {
            throw new NotSupportedException($"'{UnsafeText.Escape(value)}' holds a character PostgreSQL text cannot (NUL or a lone surrogate)");
        }

        if (!value.Contains('\\', StringComparison.Ordinal) && UnsafeText.IndexOfUnsafe(value) < 0)
        {
            return "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
        }

        var escaped = new StringBuilder("E'", value.Length + 8);
        foreach (char c in value)
        {
            if (c == '\\')
            {
                escaped.Append(@"\\");
            }
            else if (c == '\'')
            {
                escaped.Append("''");
            }
            else if (UnsafeText.IsUnsafe(c))
            {
                escaped.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.Append('\'').ToString();
    }

    /// <summary>A quoted identifier (<c>"</c> doubled).</summary>
    public static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Writes the node (its negation when <paramref name="positive"/> is false). <paramref name="notNull"/> holds the
    /// fields (bits of <see cref="RowField"/>) a chain above already decides for a null: a sibling <c>col IS NOT NULL</c>
    /// of an <c>AND</c> (when col is null, the chain is false whatever this node says) or <c>col IS NULL</c> of an
    /// <c>OR</c> (the chain is true); a negated test need not say <c>col IS NULL OR</c> for them.
    /// </summary>
    private void Write(PredicateNode node, bool positive, int indent, int notNull)
    {
        while (node is NotNode not)
        {
            node = not.Operand;
            positive = !positive;
        }

        if (node is AndNode or OrNode)
        {
            var operands = node is AndNode and ? and.Operands : ((OrNode)node).Operands;
            bool conjunction = (node is AndNode) == positive;
            int known = notNull | Decided(operands, positive, conjunction);
            Chain(operands, conjunction ? "AND" : "OR", indent, n => Test(n, positive, known), (n, i) => Write(n, positive, i, known));
            return;
        }

        Append(Test(node, positive, notNull)!);
    }

    /// <summary>The fields a chain's own operands decide for a null (see <see cref="Write(PredicateNode, bool, int, int)"/>).</summary>
    private static int Decided(PredicateNode[] operands, bool positive, bool conjunction)
    {
        int known = 0;
        foreach (var operand in operands)
        {
            var node = operand;
            bool sign = positive;
            while (node is NotNode not)
            {
                node = not.Operand;
                sign = !sign;
            }

            // Written as "col IS NOT NULL" in an AND chain, or "col IS NULL" in an OR chain.
            if (node is IsNullNode isNull && sign != conjunction)
            {
                known |= 1 << (int)isNull.Field;
            }
        }

        return known;
    }

    /// <summary>The test for a node that is not a chain (negations unwrapped), or null for a chain.</summary>
    private string? Test(PredicateNode node, bool positive, int notNull)
    {
        while (node is NotNode not)
        {
            node = not.Operand;
            positive = !positive;
        }

        return node switch
        {
            AndNode or OrNode => null,
            BoolNode b => b.Value == positive ? "TRUE" : "FALSE",
            IsNullNode n => Column(n.Field) + (positive ? " IS NULL" : " IS NOT NULL"),
            EqualsNode e => positive ? $"{Column(e.Field)} = {Literal(e.Value)}" : OrNull(e.Field, notNull, $"{Column(e.Field)} <> {Literal(e.Value)}"),
            InNode { Values.Length: 0 } => positive ? "FALSE" : "TRUE",
            InNode i => positive ? $"{Column(i.Field)} IN ({List(i.Values)})" : OrNull(i.Field, notNull, $"{Column(i.Field)} NOT IN ({List(i.Values)})"),
            LikeNode l => positive
                ? $"{Column(l.Field)} LIKE {Literal(l.Pattern)} ESCAPE E'\\\\'"
                : OrNull(l.Field, notNull, $"{Column(l.Field)} NOT LIKE {Literal(l.Pattern)} ESCAPE E'\\\\'"),
            TagsWithinNode t => positive
                ? $"{Column(t.Field)} <@ ARRAY[{List(t.Values)}]::text[]"
                : OrNull(t.Field, notNull, $"NOT ({Column(t.Field)} <@ ARRAY[{List(t.Values)}]::text[])"),
            _ => throw new NotSupportedException($"a node this writer does not know: {node.GetType().Name}"),
        };
    }

    /// <summary>A negated test, which is null for a null column: made true for it, unless a chain above decides that case.</summary>
    private string OrNull(RowField field, int notNull, string test)
        => (notNull & (1 << (int)field)) != 0 ? test : $"({Column(field)} IS NULL OR {test})";

    private string Column(RowField field)
        => Identifier(columns[field] ?? throw new InvalidOperationException($"the filter reads the {field} field, which has no column"));

    private static string List(string[] values)
        => string.Join(", ", values.Select(v => Literal(v ?? throw new NotSupportedException("a null in a list of values"))));
}

/// <summary>
/// The store filter's predicate as C# (docs/cli.md, `airbac filter`): <c>record =&gt; ...</c> with <c>&amp;&amp;</c>,
/// <c>||</c>, <c>!</c>, <c>==</c>, <c>Contains</c>, <c>All</c> and EF Core's <c>EF.Functions.Like</c>, every value as
/// an escaped string literal, captured values included.
/// </summary>
internal sealed class CSharpPredicateWriter : PredicateWriter
{
    private CSharpPredicateWriter(int limit)
        : base(limit)
    {
    }

    /// <summary>The lambda for the node.</summary>
    /// <exception cref="NotSupportedException">Text past the limit.</exception>
    /// <exception cref="InsufficientExecutionStackException">Nesting too deep to write.</exception>
    public static string Write(PredicateNode node, int limit)
    {
        var writer = new CSharpPredicateWriter(limit);
        writer.Append("record => ");
        writer.WriteNode(node, indent: 0);
        return writer.ToString();
    }

    /// <summary>A C# string literal: <c>\</c> and <c>"</c> escaped, unsafe characters and lone surrogates as <c>\uXXXX</c>.</summary>
    public static string Literal(string value)
    {
        var escaped = new StringBuilder("\"", value.Length + 8);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            bool paired = char.IsHighSurrogate(c) ? i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])
                : !char.IsLowSurrogate(c) || (i > 0 && char.IsHighSurrogate(value[i - 1]));
            if (c is '\\' or '"')
            {
                escaped.Append('\\').Append(c);
            }
            else if (UnsafeText.IsUnsafe(c) || !paired)
            {
                escaped.Append(@"\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        return escaped.Append('"').ToString();
    }

    private void WriteNode(PredicateNode node, int indent)
    {
        switch (node)
        {
            case AndNode and:
                Chain(and.Operands, "&&", indent, Test, WriteNode);
                break;
            case OrNode or:
                Chain(or.Operands, "||", indent, Test, WriteNode);
                break;
            case NotNode { Operand: AndNode or OrNode } not:
                Append("!");
                WriteNode(not.Operand, indent);
                break;
            default:
                Append(Test(node)!);
                break;
        }
    }

    /// <summary>The test for a node that is not a chain, or null for a chain (or the negation of one).</summary>
    private static string? Test(PredicateNode node) => node switch
    {
        AndNode or OrNode or NotNode { Operand: AndNode or OrNode } => null,
        NotNode { Operand: IsNullNode n } => $"{Field(n.Field)} != null",
        NotNode { Operand: EqualsNode e } => $"{Field(e.Field)} != {Literal(e.Value)}",
        NotNode not => "!" + Test(not.Operand),
        BoolNode b => b.Value ? "true" : "false",
        IsNullNode n => $"{Field(n.Field)} == null",
        EqualsNode e => $"{Field(e.Field)} == {Literal(e.Value)}",
        InNode i => $"{Array(i.Values)}.Contains({Field(i.Field)})",
        LikeNode l => $"EF.Functions.Like({Field(l.Field)}, {Literal(l.Pattern)}, \"\\\\\")",
        TagsWithinNode t => $"{Field(t.Field)}.All(tag => {Array(t.Values)}.Contains(tag))",
        _ => throw new NotSupportedException($"a node this writer does not know: {node.GetType().Name}"),
    };

    private static string Field(RowField field) => "record." + field;

    private static string Array(string[] values)
        => values.Length == 0 ? "new string[0]" : "new[] { " + string.Join(", ", values.Select(Literal)) + " }";
}
