using System.Globalization;
using Microsoft.Extensions.Options;
using SegServe.Inference;

namespace SegServe.Api.Binding;

/// <summary>
/// When a request's model run must have started: the configured default from the request's arrival, shortened — never
/// lengthened — by a <c>Request-Timeout-Ms</c> header. Bound before the body is read, so reading counts against it.
/// </summary>
public readonly record struct RequestDeadline(DateTimeOffset At)
{
    /// <summary>Header with which a request shortens its deadline (milliseconds until its model run must start).</summary>
    public const string Header = "Request-Timeout-Ms";

    public static ValueTask<RequestDeadline> BindAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        QueueOptions queue = context.RequestServices.GetRequiredService<IOptions<InferenceOptions>>().Value.Queue;
        TimeProvider time = context.RequestServices.GetRequiredService<TimeProvider>();
        double timeoutMs = queue.DefaultTimeoutMs;
        string? header = context.Request.Headers[Header];
        if (!string.IsNullOrEmpty(header))
        {
            if (!double.TryParse(header, NumberStyles.Float, CultureInfo.InvariantCulture, out double asked) || !(asked > 0))
            {
                throw new InvalidOptionException(Header, header, $"The {Header} header must be a positive number of milliseconds (got '{header}').");
            }

            timeoutMs = Math.Min(timeoutMs, asked);
        }

        return ValueTask.FromResult(new RequestDeadline(time.GetUtcNow() + TimeSpan.FromMilliseconds(timeoutMs)));
    }
}
