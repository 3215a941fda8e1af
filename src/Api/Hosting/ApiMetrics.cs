using System.Diagnostics.Metrics;

namespace SegServe.Api.Hosting;

/// <summary>
/// The host's instruments on the <c>SegServe.Api</c> meter: requests answered with a problem, by reason (the problem
/// type's last segment), status and route. (Requests by route, status and model are ASP.NET Core's
/// <c>http.server.request.duration</c>, tagged with the model by the model binding.)
/// </summary>
public sealed class ApiMetrics : IDisposable
{
    public const string MeterName = "SegServe.Api";

    private readonly Meter _meter;
    private readonly Counter<long> _rejected;

    public ApiMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _rejected = _meter.CreateCounter<long>("segserve.requests.rejected", "{request}", "Requests answered with a problem, by reason (problem type), status and route.");
    }

    public void Rejected(string reason, int status, string route) =>
        _rejected.Add(
            1,
            new KeyValuePair<string, object?>("reason", reason),
            new KeyValuePair<string, object?>("http.response.status_code", status),
            new KeyValuePair<string, object?>("http.route", route));

    public void Dispose() => _meter.Dispose();
}
