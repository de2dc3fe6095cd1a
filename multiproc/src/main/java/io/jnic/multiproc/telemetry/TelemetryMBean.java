package io.jnic.multiproc.telemetry;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.InstanceAlreadyExistsException;
import javax.management.JMException;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * A telemetry dictionary as a JMX MBean on the platform MBean server (jconsole, VisualVM, JMX exporters): each
 * key is a read-only attribute, read fresh at every access from the same code that answers the telemetry
 * command; numbers are {@code long}, everything else its text. Attribute names are fixed when the bean is
 * registered.
 */
final class TelemetryMBean implements DynamicMBean {
    private final Supplier<Map<String, Object>> source;
    private final MBeanInfo info;

    private TelemetryMBean(String description, Supplier<Map<String, Object>> source) {
        this.source = source;
        List<MBeanAttributeInfo> attrs = new ArrayList<>();
        for (Map.Entry<String, Object> e : source.get().entrySet()) {
            boolean number = e.getValue() instanceof Number;
            attrs.add(new MBeanAttributeInfo(e.getKey(), number ? "long" : String.class.getName(), e.getKey(), true,
                    false, false));
        }
        this.info = new MBeanInfo(TelemetryMBean.class.getName(), description, attrs.toArray(MBeanAttributeInfo[]::new),
                null, null, null);
    }

    /** Registers a bean named {@code name}; returns its name, or null when it could not be registered. */
    static ObjectName register(String name, String description, Supplier<Map<String, Object>> source) {
        try {
            ObjectName on = new ObjectName(name);
            MBeanServer s = ManagementFactory.getPlatformMBeanServer();
            TelemetryMBean bean = new TelemetryMBean(description, source);
            try {
                s.registerMBean(bean, on);
            } catch (InstanceAlreadyExistsException again) {
                s.unregisterMBean(on); // the same port or pool registered anew (a restarted service)
                s.registerMBean(bean, on);
            }
            return on;
        } catch (JMException | RuntimeException e) {
            System.getLogger(TelemetryMBean.class.getName()).log(System.Logger.Level.DEBUG, "no MBean {0}: {1}", name,
                    e.getMessage());
            return null;
        }
    }

    static void unregister(ObjectName on) {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(on);
        } catch (JMException e) {
            // already gone
        }
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        Map<String, Object> m = source.get();
        if (!m.containsKey(attribute)) {
            throw new AttributeNotFoundException(attribute);
        }
        Object v = m.get(attribute);
        return v instanceof Number n ? (Object) n.longValue() : String.valueOf(v);
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        Map<String, Object> m = source.get();
        AttributeList l = new AttributeList();
        for (String a : attributes) {
            if (m.containsKey(a)) {
                Object v = m.get(a);
                l.add(new Attribute(a, v instanceof Number n ? (Object) n.longValue() : String.valueOf(v)));
            }
        }
        return l;
    }

    @Override
    public void setAttribute(Attribute attribute) {
        throw new UnsupportedOperationException("telemetry attributes are read-only");
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) {
        throw new UnsupportedOperationException("no operations");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return info;
    }
}
