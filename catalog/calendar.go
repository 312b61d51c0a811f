package catalog

import "time"

// BookingCalendar is Appointment Booking's calendar as its settings make
// it: the slots of a day, their capacity and the business time zone. The
// console's bookings page draws it.
type BookingCalendar struct {
	b   *booking
	loc *time.Location
}

// BookingCalendar returns the calendar of s's appointment booking.
func (s *Settings) BookingCalendar() *BookingCalendar {
	b := &booking{cfg: s.AppointmentBooking, closed: map[string]bool{}}
	for _, d := range b.cfg.Closures {
		b.closed[d] = true
	}
	return &BookingCalendar{b: b, loc: s.Location()}
}

// Slots returns every slot start of day (a midnight in Location) in the
// opening hours, booked or not; none on a closed day.
func (c *BookingCalendar) Slots(day time.Time) []time.Time { return c.b.slotsOn(day.In(c.loc)) }

// Capacity is how many bookings one slot takes.
func (c *BookingCalendar) Capacity() int { return c.b.cfg.Capacity }

// Location is the business time zone.
func (c *BookingCalendar) Location() *time.Location { return c.loc }
