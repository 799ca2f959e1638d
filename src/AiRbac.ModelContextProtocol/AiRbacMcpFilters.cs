using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AiRbac.ModelContextProtocol;

/// <summary>
/// MCP server request filters: <c>tools/list</c> shows each client only the tools its subject may invoke, and
/// <c>tools/call</c> is authorized per call (a denied call does not run; the client gets a tool error that gives the
/// reason). The subject comes from the session's authenticated identity (<see cref="MessageContext.User"/>).
/// </summary>
public sealed class AiRbacMcpFilters
{
    private readonly PolicyAuthorizer? authorizer;
    private readonly string toolAction;
    private readonly AiRbac.Internal.ToolResourceNames toolResources;
    private readonly string? nameClaimType;
    private readonly string? roleClaimType;
    private readonly string kindClaimType;
    private readonly SubjectKind? defaultKind;
    private readonly Func<MessageContext, Subject?>? subjectProvider;

    /// <summary>Creates the filters.</summary>
    /// <param name="authorizer">
    /// The authorizer, or <see langword="null"/> to take it from each request's services
    /// (<see cref="MessageContext.Services"/>; the singleton the AiRbac DI package registers).
    /// </param>
    /// <param name="options">Settings, or <see langword="null"/> for the defaults.</param>
    public AiRbacMcpFilters(PolicyAuthorizer? authorizer, AiRbacMcpOptions? options)
    {
        options ??= new AiRbacMcpOptions();
        this.authorizer = authorizer;
        toolAction = options.ToolAction;
        toolResources = AiRbac.Internal.ToolResourceNames.For(options.ToolResourcePrefix);
        nameClaimType = options.NameClaimType;
        roleClaimType = options.RoleClaimType;
        kindClaimType = options.KindClaimType;
        defaultKind = options.DefaultKind;
        subjectProvider = options.SubjectProvider;
    }

    /// <summary>The text of the tool error returned for a denied call: the reason only, never policy internals.</summary>
    /// <param name="toolName">The tool the client called.</param>
    /// <param name="decision">The denial.</param>
    /// <returns>For example <c>Tool 'delete_records' was not run: access denied (no_matching_grant).</c></returns>
    public static string DeniedToolResult(string toolName, Decision decision)
        => string.Concat(["Tool '", toolName, "' was not run: access denied (", decision.ReasonName, ")."]);

    /// <summary>The <c>tools/list</c> filter: removes every tool the subject may not invoke from the result.</summary>
    /// <param name="next">The next handler.</param>
    /// <returns>The filtered handler.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> is <see langword="null"/>.</exception>
    public McpRequestHandler<ListToolsRequestParams, ListToolsResult> ListTools(McpRequestHandler<ListToolsRequestParams, ListToolsResult> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return async (context, cancellationToken) =>
        {
            var result = await next(context, cancellationToken).ConfigureAwait(false);
            var subject = SubjectOf(context);
            var authorizer = AuthorizerOf(context);
            var permitted = new List<Tool>(result.Tools.Count);
            foreach (var tool in result.Tools)
            {
                if (authorizer.Authorize(subject, toolAction, toolResources.Of(tool.Name)).Allowed)
                {
                    permitted.Add(tool);
                }
            }

            result.Tools = permitted;
            return result;
        };
    }

    /// <summary>The <c>tools/call</c> filter: a call the subject may not make does not reach the tool.</summary>
    /// <param name="next">The next handler.</param>
    /// <returns>The filtered handler.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="next"/> is <see langword="null"/>.</exception>
    public McpRequestHandler<CallToolRequestParams, CallToolResult> CallTool(McpRequestHandler<CallToolRequestParams, CallToolResult> next)
    {
        ArgumentNullException.ThrowIfNull(next);
        return (context, cancellationToken) =>
        {
            string name = context.Params?.Name ?? string.Empty;
            var decision = AuthorizerOf(context).Authorize(SubjectOf(context), toolAction, toolResources.Of(name));
            if (decision.Allowed)
            {
                return next(context, cancellationToken);
            }

            return new ValueTask<CallToolResult>(new CallToolResult
            {
                IsError = true,
                Content = [new TextContentBlock { Text = DeniedToolResult(name, decision) }],
            });
        };
    }

    /// <summary>Adds both filters to server options (for servers created with <see cref="McpServer.Create"/>).</summary>
    /// <param name="options">The server options.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is <see langword="null"/>.</exception>
    public void AddTo(McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Filters.Request.ListToolsFilters.Add(ListTools);
        options.Filters.Request.CallToolFilters.Add(CallTool);
    }

    private Subject SubjectOf(MessageContext context)
        => subjectProvider is not null
            ? subjectProvider(context) ?? AiRbac.Internal.ClaimsSubjectMapper.Anonymous
            : AiRbac.Internal.ClaimsSubjectMapper.Map(context.User, nameClaimType, roleClaimType, kindClaimType, defaultKind);

    private PolicyAuthorizer AuthorizerOf(MessageContext context)
        => authorizer
            ?? context.Services?.GetService(typeof(PolicyAuthorizer)) as PolicyAuthorizer
            ?? throw new InvalidOperationException("No PolicyAuthorizer is registered: register one (AddAiRbac) or pass it to the AiRbac MCP filters.");
}
