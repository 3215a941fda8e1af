using System.ComponentModel.DataAnnotations;

namespace SegServe.Api.Security;

/// <summary>Who may call the service, bound from <c>Authentication</c>.</summary>
public sealed class ApiKeyOptions
{
    public const string SectionName = "Authentication";

    /// <summary>
    /// Whether requests without a key are served, as the roles in <see cref="AnonymousRoles"/>. True by default so that a
    /// local <c>dotnet run</c> works at once; the container's production settings turn it off.
    /// </summary>
    public bool AllowAnonymous { get; set; } = true;

    /// <summary>The roles of a caller without a key while <see cref="AllowAnonymous"/> is on.</summary>
    public List<string> AnonymousRoles { get; set; } = [Roles.User];

    /// <summary>Whether <c>/health/*</c> needs a key too (probes usually come from inside the cluster: off by default).</summary>
    public bool ProtectHealth { get; set; }

    /// <summary>
    /// Whether <c>/metrics</c> is under the API's rule too — a user key, or anonymous access while
    /// <see cref="AllowAnonymous"/> allows it, as for <see cref="ProtectHealth"/> (Prometheus scrapes without one: off by default).
    /// </summary>
    public bool ProtectMetrics { get; set; }

    /// <summary>The keys: a name, the SHA-256 of the key (never the key itself) and roles.</summary>
    public List<ApiKey> ApiKeys { get; set; } = [];
}

/// <summary>One API key as configured.</summary>
public sealed class ApiKey
{
    /// <summary>Who holds it: appears in logs and owns the evaluation runs made with it.</summary>
    [Required]
    public string Name { get; set; } = "";

    /// <summary>The SHA-256 of the key, hex (64 characters, either case): <c>printf %s "$KEY" | sha256sum</c>.</summary>
    [Required]
    [RegularExpression("^[0-9A-Fa-f]{64}$")]
    public string Sha256 { get; set; } = "";

    /// <summary><c>user</c> (segment, overlay, evaluate) and/or <c>admin</c> (also reload models).</summary>
    public List<string> Roles { get; set; } = [Security.Roles.User];
}

/// <summary>The roles a key can have, and the policies that need them.</summary>
public static class Roles
{
    public const string User = "user";
    public const string Admin = "admin";

    /// <summary>Policy: a user or an admin.</summary>
    public const string UserPolicy = "segserve-user";

    /// <summary>Policy: an admin.</summary>
    public const string AdminPolicy = "segserve-admin";

    /// <summary>The name of a caller without a key.</summary>
    public const string Anonymous = "anonymous";
}
