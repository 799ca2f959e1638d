using System.Linq.Expressions;

namespace AiRbac;

/// <summary>
/// Replaces one parameter of an expression with another expression: how a mapped field or a caller's predicate is put
/// on a store filter's record parameter (linked into AiRbac.Extensions.AI, which narrows a store predicate with a
/// caller's filter).
/// </summary>
internal sealed class ParameterReplacer(ParameterExpression from, Expression to) : ExpressionVisitor
{
    protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : node;
}
