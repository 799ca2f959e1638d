using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;

namespace AiRbac.AspNetCore;

/// <summary>
/// Decides an <see cref="AiRbacRequirement"/>: maps the user to a subject (<see cref="AiRbacAuthorizationOptions"/>),
/// fills the resource template from the route values (the resource passed to <c>AuthorizeAsync</c> may instead be an
/// <see cref="HttpContext"/>, a <see cref="RouteValueDictionary"/>, a <see cref="ResourceRequest"/> or a resource
/// name) and asks the <see cref="PolicyAuthorizer"/>. It succeeds only on an allowed decision; a missing route value
/// fails the requirement.
/// </summary>
internal sealed class AiRbacAuthorizationHandler : AuthorizationHandler<AiRbacRequirement>
{
    private readonly PolicyAuthorizer authorizer;
    private readonly AiRbacAuthorizationOptions options;

    /// <summary>Creates the handler.</summary>
    /// <param name="authorizer">The authorizer that holds the current policy.</param>
    /// <param name="options">The claim mapping.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    public AiRbacAuthorizationHandler(PolicyAuthorizer authorizer, IOptions<AiRbacAuthorizationOptions> options)
    {
        ArgumentNullException.ThrowIfNull(authorizer);
        ArgumentNullException.ThrowIfNull(options);
        this.authorizer = authorizer;
        this.options = options.Value;
    }

    /// <inheritdoc/>
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, AiRbacRequirement requirement)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(requirement);
        if (!TryResource(context.Resource, requirement, out var resource))
        {
            context.Fail(new AuthorizationFailureReason(this, $"AiRbac: a route value of '{requirement.ResourceTemplate}' is missing."));
            return Task.CompletedTask;
        }

        var decision = authorizer.Authorize(options.MapPrincipal(context.User), requirement.Action, resource);
        if (decision.Allowed)
        {
            context.Succeed(requirement);
        }
        else
        {
            // The reason name only: role and rule names stay in the audit trail (IDecisionObserver).
            // One concat of known parts (the same text as the interpolated string it replaces, without its pooled buffer).
            context.Fail(new AuthorizationFailureReason(this, string.Concat(["AiRbac denied ", requirement.Action, " on ", resource.Name, " (", decision.ReasonName, ")."])));
        }

        return Task.CompletedTask;
    }

    private bool TryResource(object? source, AiRbacRequirement requirement, out ResourceRequest resource)
    {
        RouteValueDictionary? values;
        switch (source)
        {
            case ResourceRequest request:
                resource = request;
                return true;
            case string name:
                resource = new ResourceRequest(name);
                return true;
            case HttpContext http:
                values = http.Request.RouteValues;
                break;
            case RouteValueDictionary dictionary:
                values = dictionary;
                break;
            default:
                values = null;
                break;
        }

        if (!requirement.TryFormatResource(values, out var name2))
        {
            resource = default;
            return false;
        }

        resource = new ResourceRequest(name2) { Scope = options.ScopeRouteValue is { } scope ? AiRbacRequirement.RouteValue(values, scope) : null };
        return true;
    }
}
