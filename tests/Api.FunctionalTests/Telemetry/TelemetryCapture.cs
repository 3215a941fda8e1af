using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace SegServe.Api.FunctionalTests.Telemetry;

/// <summary>Finished spans, as the OpenTelemetry in-memory exporter hands them over (from any thread).</summary>
public sealed class SpanCollection : ICollection<Activity>
{
    private readonly List<Activity> _spans = [];

    public int Count
    {
        get
        {
            lock (_spans)
            {
                return _spans.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public void Add(Activity item)
    {
        lock (_spans)
        {
            _spans.Add(item);
        }
    }

    /// <summary>The spans of one trace, or that link to it.</summary>
    public List<Activity> OfTrace(ActivityTraceId trace)
    {
        lock (_spans)
        {
            return [.. _spans.Where(s => s.TraceId == trace || s.Links.Any(l => l.Context.TraceId == trace))];
        }
    }

    public void Clear()
    {
        lock (_spans)
        {
            _spans.Clear();
        }
    }

    public bool Contains(Activity item)
    {
        lock (_spans)
        {
            return _spans.Contains(item);
        }
    }

    public void CopyTo(Activity[] array, int arrayIndex)
    {
        lock (_spans)
        {
            _spans.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(Activity item)
    {
        lock (_spans)
        {
            return _spans.Remove(item);
        }
    }

    public IEnumerator<Activity> GetEnumerator()
    {
        lock (_spans)
        {
            return _spans.ToList().GetEnumerator();
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>One log record as a provider sees it: category, level, event, its structured fields and the scopes around it.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, EventId Event, string Message, IReadOnlyDictionary<string, object?> Fields, IReadOnlyDictionary<string, object?> Scope);

/// <summary>A logger provider that keeps every record with its fields and scopes (trace and span ids among them).</summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly List<CapturedLog> _records = [];
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<CapturedLog> Records
    {
        get
        {
            lock (_records)
            {
                return [.. _records];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private void Add(CapturedLog record)
    {
        lock (_records)
        {
            _records.Add(record);
        }
    }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var fields = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach ((string key, object? value) in pairs)
                {
                    fields[key] = value;
                }
            }

            var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
            owner._scopes.ForEachScope(
                static (item, into) =>
                {
                    if (item is IEnumerable<KeyValuePair<string, object?>> values)
                    {
                        foreach ((string key, object? value) in values)
                        {
                            into[key] = value;
                        }
                    }
                },
                scope);
            owner.Add(new CapturedLog(category, logLevel, eventId, formatter(state, exception), fields, scope));
        }
    }
}
